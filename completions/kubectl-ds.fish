# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kubectl_ds_global_optspecs
    string join \n n/namespace= A/all-namespaces context= kubeconfig= cluster= user= as= as-group= as-uid= request-timeout= insecure-skip-tls-verify o/output= l/selector= no-headers color= v/verbose h/help V/version
end

function __fish_kubectl_ds_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kubectl_ds_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kubectl_ds_using_subcommand
    set -l cmd (__fish_kubectl_ds_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -s n -l namespace -d 'Namespace to look in (default: the kubeconfig context\'s namespace)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -l kubeconfig -d 'Path to the kubeconfig file to use (that file only; no merging with $KUBECONFIG)' -r -F
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -l as-uid -d 'UID to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -l request-timeout -d 'How long to wait for a single request to the server (e.g. 5s, 1m; 0 = no limit)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -s o -l output -d 'Output format: wide, json, yaml or name (default: a table)' -r -f -a "wide\t''
json\t''
yaml\t''
name\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -s l -l selector -d 'Label selector to filter DaemonSets (e.g. app=agent,tier!=test)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -l color -d 'When to color output (NO_COLOR in the environment means never, unless --color=always)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -s A -l all-namespaces -d 'Look in every namespace'
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -l insecure-skip-tls-verify -d 'Do not verify the server\'s certificate (insecure)'
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -l no-headers -d 'Do not print table headers'
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -s v -l verbose -d 'Print debug logs to stderr (-v, -vv, -vvv); credentials are never logged'
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -s h -l help -d 'Print help'
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -s V -l version -d 'Print version'
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -f -a "status" -d 'DaemonSet health; with a name, per-node coverage grouped by verdict and reason'
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -f -a "why-not-scheduled" -d 'Every DaemonSet against one node: is its pod there, and if not, exactly why'
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -f -a "why-not" -d 'Every DaemonSet against one node: is its pod there, and if not, exactly why'
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -f -a "rollout" -d 'Rollout operations'
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -f -a "history" -d 'Revisions of a DaemonSet (ControllerRevisions), one template, or a diff of two'
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -f -a "undo" -d 'Roll a DaemonSet back to an earlier revision'
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -f -a "pause" -d 'Pause a DaemonSet\'s rollout (switches it to OnDelete and records the strategy)'
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -f -a "resume" -d 'Resume a paused DaemonSet\'s rollout (restores the recorded update strategy)'
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -f -a "restart" -d 'Restart every pod of a DaemonSet (as kubectl rollout restart)'
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -f -a "snapshot" -d 'Save what the analysis needs from the cluster to a file, for --snapshot'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand status" -l snapshot -d 'Read cluster state from a snapshot file or folder instead of the cluster (- for stdin)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand status" -s n -l namespace -d 'Namespace to look in (default: the kubeconfig context\'s namespace)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand status" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand status" -l kubeconfig -d 'Path to the kubeconfig file to use (that file only; no merging with $KUBECONFIG)' -r -F
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand status" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand status" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand status" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand status" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand status" -l as-uid -d 'UID to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand status" -l request-timeout -d 'How long to wait for a single request to the server (e.g. 5s, 1m; 0 = no limit)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand status" -s o -l output -d 'Output format: wide, json, yaml or name (default: a table)' -r -f -a "wide\t''
json\t''
yaml\t''
name\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand status" -s l -l selector -d 'Label selector to filter DaemonSets (e.g. app=agent,tier!=test)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand status" -l color -d 'When to color output (NO_COLOR in the environment means never, unless --color=always)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand status" -s A -l all-namespaces -d 'Look in every namespace'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand status" -l insecure-skip-tls-verify -d 'Do not verify the server\'s certificate (insecure)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand status" -l no-headers -d 'Do not print table headers'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand status" -s v -l verbose -d 'Print debug logs to stderr (-v, -vv, -vvv); credentials are never logged'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand status" -s h -l help -d 'Print help'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand status" -s V -l version -d 'Print version'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not-scheduled" -l snapshot -d 'Read cluster state from a snapshot file or folder instead of the cluster (- for stdin)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not-scheduled" -s n -l namespace -d 'Namespace to look in (default: the kubeconfig context\'s namespace)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not-scheduled" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not-scheduled" -l kubeconfig -d 'Path to the kubeconfig file to use (that file only; no merging with $KUBECONFIG)' -r -F
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not-scheduled" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not-scheduled" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not-scheduled" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not-scheduled" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not-scheduled" -l as-uid -d 'UID to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not-scheduled" -l request-timeout -d 'How long to wait for a single request to the server (e.g. 5s, 1m; 0 = no limit)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not-scheduled" -s o -l output -d 'Output format: wide, json, yaml or name (default: a table)' -r -f -a "wide\t''
json\t''
yaml\t''
name\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not-scheduled" -s l -l selector -d 'Label selector to filter DaemonSets (e.g. app=agent,tier!=test)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not-scheduled" -l color -d 'When to color output (NO_COLOR in the environment means never, unless --color=always)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not-scheduled" -l explain -d 'Show every rule evaluated, including the tolerations the controller adds (like -o wide)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not-scheduled" -s A -l all-namespaces -d 'Look in every namespace'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not-scheduled" -l insecure-skip-tls-verify -d 'Do not verify the server\'s certificate (insecure)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not-scheduled" -l no-headers -d 'Do not print table headers'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not-scheduled" -s v -l verbose -d 'Print debug logs to stderr (-v, -vv, -vvv); credentials are never logged'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not-scheduled" -s h -l help -d 'Print help'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not-scheduled" -s V -l version -d 'Print version'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not" -l snapshot -d 'Read cluster state from a snapshot file or folder instead of the cluster (- for stdin)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not" -s n -l namespace -d 'Namespace to look in (default: the kubeconfig context\'s namespace)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not" -l kubeconfig -d 'Path to the kubeconfig file to use (that file only; no merging with $KUBECONFIG)' -r -F
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not" -l as-uid -d 'UID to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not" -l request-timeout -d 'How long to wait for a single request to the server (e.g. 5s, 1m; 0 = no limit)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not" -s o -l output -d 'Output format: wide, json, yaml or name (default: a table)' -r -f -a "wide\t''
json\t''
yaml\t''
name\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not" -s l -l selector -d 'Label selector to filter DaemonSets (e.g. app=agent,tier!=test)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not" -l color -d 'When to color output (NO_COLOR in the environment means never, unless --color=always)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not" -l explain -d 'Show every rule evaluated, including the tolerations the controller adds (like -o wide)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not" -s A -l all-namespaces -d 'Look in every namespace'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not" -l insecure-skip-tls-verify -d 'Do not verify the server\'s certificate (insecure)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not" -l no-headers -d 'Do not print table headers'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not" -s v -l verbose -d 'Print debug logs to stderr (-v, -vv, -vvv); credentials are never logged'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not" -s h -l help -d 'Print help'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand why-not" -s V -l version -d 'Print version'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and not __fish_seen_subcommand_from watch" -s n -l namespace -d 'Namespace to look in (default: the kubeconfig context\'s namespace)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and not __fish_seen_subcommand_from watch" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and not __fish_seen_subcommand_from watch" -l kubeconfig -d 'Path to the kubeconfig file to use (that file only; no merging with $KUBECONFIG)' -r -F
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and not __fish_seen_subcommand_from watch" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and not __fish_seen_subcommand_from watch" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and not __fish_seen_subcommand_from watch" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and not __fish_seen_subcommand_from watch" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and not __fish_seen_subcommand_from watch" -l as-uid -d 'UID to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and not __fish_seen_subcommand_from watch" -l request-timeout -d 'How long to wait for a single request to the server (e.g. 5s, 1m; 0 = no limit)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and not __fish_seen_subcommand_from watch" -s o -l output -d 'Output format: wide, json, yaml or name (default: a table)' -r -f -a "wide\t''
json\t''
yaml\t''
name\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and not __fish_seen_subcommand_from watch" -s l -l selector -d 'Label selector to filter DaemonSets (e.g. app=agent,tier!=test)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and not __fish_seen_subcommand_from watch" -l color -d 'When to color output (NO_COLOR in the environment means never, unless --color=always)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and not __fish_seen_subcommand_from watch" -s A -l all-namespaces -d 'Look in every namespace'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and not __fish_seen_subcommand_from watch" -l insecure-skip-tls-verify -d 'Do not verify the server\'s certificate (insecure)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and not __fish_seen_subcommand_from watch" -l no-headers -d 'Do not print table headers'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and not __fish_seen_subcommand_from watch" -s v -l verbose -d 'Print debug logs to stderr (-v, -vv, -vvv); credentials are never logged'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and not __fish_seen_subcommand_from watch" -s h -l help -d 'Print help'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and not __fish_seen_subcommand_from watch" -s V -l version -d 'Print version'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and not __fish_seen_subcommand_from watch" -f -a "watch" -d 'Follow a rollout live until it finishes, stalls or times out'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from watch" -l timeout -d 'Give up after this long (e.g. 10m; 0 = never)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from watch" -l progress-deadline -d 'Fail when the rollout makes no progress for this long' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from watch" -s n -l namespace -d 'Namespace to look in (default: the kubeconfig context\'s namespace)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from watch" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from watch" -l kubeconfig -d 'Path to the kubeconfig file to use (that file only; no merging with $KUBECONFIG)' -r -F
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from watch" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from watch" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from watch" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from watch" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from watch" -l as-uid -d 'UID to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from watch" -l request-timeout -d 'How long to wait for a single request to the server (e.g. 5s, 1m; 0 = no limit)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from watch" -s o -l output -d 'Output format: wide, json, yaml or name (default: a table)' -r -f -a "wide\t''
json\t''
yaml\t''
name\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from watch" -s l -l selector -d 'Label selector to filter DaemonSets (e.g. app=agent,tier!=test)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from watch" -l color -d 'When to color output (NO_COLOR in the environment means never, unless --color=always)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from watch" -s A -l all-namespaces -d 'Look in every namespace'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from watch" -l insecure-skip-tls-verify -d 'Do not verify the server\'s certificate (insecure)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from watch" -l no-headers -d 'Do not print table headers'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from watch" -s v -l verbose -d 'Print debug logs to stderr (-v, -vv, -vvv); credentials are never logged'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from watch" -s h -l help -d 'Print help'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from watch" -s V -l version -d 'Print version'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand history" -l revision -d 'Print the pod template of this revision' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand history" -l diff -d 'Diff two revisions field by field (B defaults to the current one)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand history" -s n -l namespace -d 'Namespace to look in (default: the kubeconfig context\'s namespace)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand history" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand history" -l kubeconfig -d 'Path to the kubeconfig file to use (that file only; no merging with $KUBECONFIG)' -r -F
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand history" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand history" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand history" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand history" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand history" -l as-uid -d 'UID to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand history" -l request-timeout -d 'How long to wait for a single request to the server (e.g. 5s, 1m; 0 = no limit)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand history" -s o -l output -d 'Output format: wide, json, yaml or name (default: a table)' -r -f -a "wide\t''
json\t''
yaml\t''
name\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand history" -s l -l selector -d 'Label selector to filter DaemonSets (e.g. app=agent,tier!=test)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand history" -l color -d 'When to color output (NO_COLOR in the environment means never, unless --color=always)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand history" -s A -l all-namespaces -d 'Look in every namespace'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand history" -l insecure-skip-tls-verify -d 'Do not verify the server\'s certificate (insecure)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand history" -l no-headers -d 'Do not print table headers'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand history" -s v -l verbose -d 'Print debug logs to stderr (-v, -vv, -vvv); credentials are never logged'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand history" -s h -l help -d 'Print help'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand history" -s V -l version -d 'Print version'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand undo" -l to-revision -d 'The revision to roll back to (default: the one before the newest)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand undo" -s n -l namespace -d 'Namespace to look in (default: the kubeconfig context\'s namespace)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand undo" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand undo" -l kubeconfig -d 'Path to the kubeconfig file to use (that file only; no merging with $KUBECONFIG)' -r -F
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand undo" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand undo" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand undo" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand undo" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand undo" -l as-uid -d 'UID to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand undo" -l request-timeout -d 'How long to wait for a single request to the server (e.g. 5s, 1m; 0 = no limit)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand undo" -s o -l output -d 'Output format: wide, json, yaml or name (default: a table)' -r -f -a "wide\t''
json\t''
yaml\t''
name\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand undo" -s l -l selector -d 'Label selector to filter DaemonSets (e.g. app=agent,tier!=test)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand undo" -l color -d 'When to color output (NO_COLOR in the environment means never, unless --color=always)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand undo" -l dry-run -d 'Show what would change without changing anything'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand undo" -s A -l all-namespaces -d 'Look in every namespace'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand undo" -l insecure-skip-tls-verify -d 'Do not verify the server\'s certificate (insecure)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand undo" -l no-headers -d 'Do not print table headers'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand undo" -s v -l verbose -d 'Print debug logs to stderr (-v, -vv, -vvv); credentials are never logged'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand undo" -s h -l help -d 'Print help'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand undo" -s V -l version -d 'Print version'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand pause" -s n -l namespace -d 'Namespace to look in (default: the kubeconfig context\'s namespace)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand pause" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand pause" -l kubeconfig -d 'Path to the kubeconfig file to use (that file only; no merging with $KUBECONFIG)' -r -F
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand pause" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand pause" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand pause" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand pause" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand pause" -l as-uid -d 'UID to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand pause" -l request-timeout -d 'How long to wait for a single request to the server (e.g. 5s, 1m; 0 = no limit)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand pause" -s o -l output -d 'Output format: wide, json, yaml or name (default: a table)' -r -f -a "wide\t''
json\t''
yaml\t''
name\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand pause" -s l -l selector -d 'Label selector to filter DaemonSets (e.g. app=agent,tier!=test)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand pause" -l color -d 'When to color output (NO_COLOR in the environment means never, unless --color=always)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand pause" -s A -l all-namespaces -d 'Look in every namespace'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand pause" -l insecure-skip-tls-verify -d 'Do not verify the server\'s certificate (insecure)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand pause" -l no-headers -d 'Do not print table headers'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand pause" -s v -l verbose -d 'Print debug logs to stderr (-v, -vv, -vvv); credentials are never logged'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand pause" -s h -l help -d 'Print help'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand pause" -s V -l version -d 'Print version'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand resume" -s n -l namespace -d 'Namespace to look in (default: the kubeconfig context\'s namespace)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand resume" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand resume" -l kubeconfig -d 'Path to the kubeconfig file to use (that file only; no merging with $KUBECONFIG)' -r -F
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand resume" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand resume" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand resume" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand resume" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand resume" -l as-uid -d 'UID to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand resume" -l request-timeout -d 'How long to wait for a single request to the server (e.g. 5s, 1m; 0 = no limit)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand resume" -s o -l output -d 'Output format: wide, json, yaml or name (default: a table)' -r -f -a "wide\t''
json\t''
yaml\t''
name\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand resume" -s l -l selector -d 'Label selector to filter DaemonSets (e.g. app=agent,tier!=test)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand resume" -l color -d 'When to color output (NO_COLOR in the environment means never, unless --color=always)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand resume" -s A -l all-namespaces -d 'Look in every namespace'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand resume" -l insecure-skip-tls-verify -d 'Do not verify the server\'s certificate (insecure)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand resume" -l no-headers -d 'Do not print table headers'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand resume" -s v -l verbose -d 'Print debug logs to stderr (-v, -vv, -vvv); credentials are never logged'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand resume" -s h -l help -d 'Print help'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand resume" -s V -l version -d 'Print version'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand restart" -s n -l namespace -d 'Namespace to look in (default: the kubeconfig context\'s namespace)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand restart" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand restart" -l kubeconfig -d 'Path to the kubeconfig file to use (that file only; no merging with $KUBECONFIG)' -r -F
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand restart" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand restart" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand restart" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand restart" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand restart" -l as-uid -d 'UID to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand restart" -l request-timeout -d 'How long to wait for a single request to the server (e.g. 5s, 1m; 0 = no limit)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand restart" -s o -l output -d 'Output format: wide, json, yaml or name (default: a table)' -r -f -a "wide\t''
json\t''
yaml\t''
name\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand restart" -s l -l selector -d 'Label selector to filter DaemonSets (e.g. app=agent,tier!=test)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand restart" -l color -d 'When to color output (NO_COLOR in the environment means never, unless --color=always)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand restart" -s A -l all-namespaces -d 'Look in every namespace'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand restart" -l insecure-skip-tls-verify -d 'Do not verify the server\'s certificate (insecure)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand restart" -l no-headers -d 'Do not print table headers'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand restart" -s v -l verbose -d 'Print debug logs to stderr (-v, -vv, -vvv); credentials are never logged'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand restart" -s h -l help -d 'Print help'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand restart" -s V -l version -d 'Print version'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand snapshot" -s n -l namespace -d 'Namespace to look in (default: the kubeconfig context\'s namespace)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand snapshot" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand snapshot" -l kubeconfig -d 'Path to the kubeconfig file to use (that file only; no merging with $KUBECONFIG)' -r -F
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand snapshot" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand snapshot" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand snapshot" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand snapshot" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand snapshot" -l as-uid -d 'UID to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand snapshot" -l request-timeout -d 'How long to wait for a single request to the server (e.g. 5s, 1m; 0 = no limit)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand snapshot" -s o -l output -d 'Output format: wide, json, yaml or name (default: a table)' -r -f -a "wide\t''
json\t''
yaml\t''
name\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand snapshot" -s l -l selector -d 'Label selector to filter DaemonSets (e.g. app=agent,tier!=test)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand snapshot" -l color -d 'When to color output (NO_COLOR in the environment means never, unless --color=always)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand snapshot" -s A -l all-namespaces -d 'Look in every namespace'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand snapshot" -l insecure-skip-tls-verify -d 'Do not verify the server\'s certificate (insecure)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand snapshot" -l no-headers -d 'Do not print table headers'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand snapshot" -s v -l verbose -d 'Print debug logs to stderr (-v, -vv, -vvv); credentials are never logged'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand snapshot" -s h -l help -d 'Print help'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand snapshot" -s V -l version -d 'Print version'
