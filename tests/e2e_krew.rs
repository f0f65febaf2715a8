//! Distribution through krew, with the real krew (built by testcluster/build.sh from its Go
//! module): the committed manifest passes krew's own validator, scripts/release.sh packs an
//! archive and renders a manifest that krew installs offline (`--manifest` + `--archive`) into a
//! throw-away KREW_ROOT, and kubectl then runs the plugin from krew's bin folder. The completion
//! step the manifest's caveats tell users to run is run too.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use clap::CommandFactory;
use serde_json::Value;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The folder with kubectl, krew and validate-krew-manifest (built or reused by build.sh).
fn bin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let out = Command::new(repo_root().join("testcluster/build.sh"))
            .output()
            .expect("run testcluster/build.sh");
        assert!(
            out.status.success(),
            "testcluster/build.sh failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        for tool in ["kubectl", "krew", "validate-krew-manifest"] {
            assert!(dir.join(tool).is_file(), "{tool} missing from {}", dir.display());
        }
        dir
    })
}

fn run(cmd: &mut Command) -> (Output, String) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let text = format!(
        "{:?} exited {:?}\n--- stdout\n{}\n--- stderr\n{}",
        cmd,
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, text)
}

fn cargo_version() -> String {
    format!("v{}", env!("CARGO_PKG_VERSION"))
}

fn manifest(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()))
}

/// krew's validator insists that the file is named after the plugin (plugins/ds.yaml in krew-index).
fn validate_with_krew(manifest: &Path) {
    let dir = tempfile::tempdir().expect("temp dir");
    let named = dir.path().join("ds.yaml");
    std::fs::copy(manifest, &named).expect("copy manifest");
    let (out, text) = run(Command::new(bin_dir().join("validate-krew-manifest"))
        .arg("-manifest")
        .arg(&named)
        .arg("-skip-install"));
    assert!(
        out.status.success(),
        "krew rejects {}:\n{text}",
        manifest.display()
    );
    assert!(text.contains("structural validation OK"), "{text}");
    assert!(text.contains("no overlapping spec.platform[].selector"), "{text}");
}

#[test]
fn committed_manifest_follows_krews_rules_and_the_crate_version() {
    let path = repo_root().join("krew-manifest.yaml");
    validate_with_krew(&path);

    let m = manifest(&path);
    assert_eq!(m["apiVersion"], "krew.googlecontainertools.github.com/v1alpha2");
    assert_eq!(m["kind"], "Plugin");
    assert_eq!(m["metadata"]["name"], "ds");
    let spec = &m["spec"];
    assert_eq!(
        spec["version"],
        cargo_version().as_str(),
        "spec.version follows Cargo.toml"
    );
    let text = std::fs::read_to_string(&path).expect("manifest");
    for v in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.')) {
        let semver = v.strip_prefix('v').is_some_and(|r| {
            let parts: Vec<&str> = r.split('.').collect();
            parts.len() == 3
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        });
        assert!(
            !semver || v == cargo_version(),
            "the manifest mentions {v}, the crate is {}",
            cargo_version()
        );
    }
    assert!(
        spec["homepage"]
            .as_str()
            .is_some_and(|h| h.starts_with("https://"))
    );
    let short = spec["shortDescription"].as_str().expect("shortDescription");
    assert!(
        short.len() <= 50 && !short.contains('\n'),
        "shortDescription {short:?}"
    );
    let description = spec["description"].as_str().expect("description");
    for line in description.lines() {
        assert!(
            line.chars().count() <= 80,
            "description line over 80 columns: {line:?}"
        );
    }
    assert!(
        !description.contains("kubectl ds status") && !description.contains("\n- "),
        "no command list in the description (that is --help's job)"
    );
    let caveats = spec["caveats"].as_str().expect("caveats");
    assert!(
        caveats.contains("kubectl_complete-ds") && caveats.contains("deploy/rbac.yaml"),
        "{caveats}"
    );

    let platforms = spec["platforms"].as_array().expect("platforms");
    let mut seen = Vec::new();
    for p in platforms {
        let labels = &p["selector"]["matchLabels"];
        let (os, arch) = (labels["os"].as_str().unwrap(), labels["arch"].as_str().unwrap());
        seen.push(format!("{os}/{arch}"));
        let sha = p["sha256"].as_str().expect("sha256");
        assert!(sha.len() == 64 && sha.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')));
        let uri = p["uri"].as_str().expect("uri");
        assert!(uri.contains(&format!("/{}/", cargo_version())), "{uri}");
        let (bin, ext) = if os == "windows" {
            ("kubectl-ds.exe", ".zip")
        } else {
            ("kubectl-ds", ".tar.gz")
        };
        assert_eq!(p["bin"], bin, "{os}/{arch}");
        assert!(uri.ends_with(ext), "{uri}");
    }
    assert_eq!(
        seen,
        [
            "linux/amd64",
            "linux/arm64",
            "darwin/amd64",
            "darwin/arm64",
            "windows/amd64"
        ]
    );
}

#[test]
fn release_archive_installs_with_krew_and_runs_as_kubectl_ds() {
    let work = tempfile::tempdir().expect("temp dir");
    let man = work.path().join("man");
    clap_mangen::generate_to(kubectl_ds::cli::Cli::command(), {
        std::fs::create_dir_all(&man).expect("man dir");
        &man
    })
    .expect("man pages");
    let dist = work.path().join("dist");
    let (out, text) = run(Command::new(repo_root().join("scripts/release.sh"))
        .arg("--binary")
        .arg(env!("CARGO_BIN_EXE_kubectl-ds"))
        .arg("--man-dir")
        .arg(&man)
        .arg("--out")
        .arg(&dist));
    assert!(out.status.success(), "release.sh failed:\n{text}");

    let rendered = dist.join("krew-manifest.yaml");
    validate_with_krew(&rendered);
    let m = manifest(&rendered);
    let linux = m["spec"]["platforms"]
        .as_array()
        .expect("platforms")
        .iter()
        .find(|p| {
            p["selector"]["matchLabels"]["os"] == "linux" && p["selector"]["matchLabels"]["arch"] == "amd64"
        })
        .expect("linux/amd64 platform");
    let uri = linux["uri"].as_str().expect("uri");
    let archive = dist.join(uri.rsplit('/').next().expect("file name"));
    assert!(
        archive.is_file(),
        "the rendered uri names {}, which release.sh did not write",
        archive.display()
    );
    let (_, sums) = run(Command::new("sha256sum").arg(&archive));
    assert!(sums.contains(linux["sha256"].as_str().expect("sha256")), "{sums}");
    let rendered_text = std::fs::read_to_string(&rendered).expect("rendered");
    assert_eq!(
        rendered_text.matches("# PLACEHOLDER").count(),
        4,
        "every platform not built is marked:\n{rendered_text}"
    );
    let sums_file = std::fs::read_to_string(dist.join("SHA256SUMS")).expect("SHA256SUMS");
    assert!(
        sums_file.contains(linux["sha256"].as_str().unwrap()),
        "{sums_file}"
    );

    // A user's machine: krew as a kubectl plugin, its own root and HOME, no index, no network.
    let home = work.path().join("home");
    let krew_root = work.path().join("krew");
    let tools = work.path().join("tools");
    for d in [&home, &tools] {
        std::fs::create_dir_all(d).expect("dir");
    }
    std::os::unix::fs::symlink(bin_dir().join("krew"), tools.join("kubectl-krew")).expect("link krew");
    let path = std::env::join_paths([
        krew_root.join("bin").as_path(),
        tools.as_path(),
        bin_dir(),
        Path::new("/usr/bin"),
        Path::new("/bin"),
    ])
    .expect("PATH");
    let kubectl = |args: &[&str]| {
        let mut c = Command::new(bin_dir().join("kubectl"));
        c.env_clear()
            .env("PATH", &path)
            .env("HOME", &home)
            .env("KREW_ROOT", &krew_root)
            .env("KREW_NO_UPGRADE_CHECK", "1")
            .env("KUBECONFIG", work.path().join("no-cluster.yaml"))
            .args(args);
        run(&mut c)
    };

    let (out, text) = kubectl(&[
        "krew",
        "install",
        &format!("--manifest={}", rendered.display()),
        &format!("--archive={}", archive.display()),
    ]);
    assert!(out.status.success(), "krew install failed:\n{text}");
    assert!(text.contains("Installed plugin: ds"), "{text}");
    let store = krew_root.join("store/ds").join(cargo_version());
    for file in [
        "kubectl-ds",
        "LICENSE",
        "README.md",
        "man/kubectl-ds.1",
        "completions/kubectl_complete-ds",
    ] {
        assert!(
            store.join(file).is_file(),
            "{file} not installed by krew:\n{text}"
        );
    }
    let link = krew_root.join("bin/kubectl-ds");
    assert!(link.is_symlink(), "krew did not link {}", link.display());

    let (out, text) = kubectl(&["plugin", "list"]);
    assert!(
        out.status.success() && text.contains(&link.display().to_string()),
        "{text}"
    );
    // The caveats' completion step, exactly as written, makes kubectl complete the plugin.
    let caveats = m["spec"]["caveats"].as_str().expect("caveats");
    let step: String = caveats
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("install "))
        .take_while(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!step.is_empty(), "no install step in the caveats:\n{caveats}");
    let (_, before) = kubectl(&["__complete", "ds", ""]);
    assert!(
        !before.contains("why-not-scheduled"),
        "completion without the helper:\n{before}"
    );
    let (out, text) = run(Command::new("sh")
        .arg("-c")
        .arg(&step)
        .env("HOME", &home)
        .env("KREW_ROOT", &krew_root));
    assert!(out.status.success(), "the caveats' step failed:\n{text}");
    let (out, text) = kubectl(&["__complete", "ds", ""]);
    assert!(out.status.success(), "{text}");
    for sub in ["status", "why-not-scheduled", "history"] {
        assert!(
            text.lines().any(|l| l.starts_with(&format!("{sub}\t"))),
            "{sub} not completed:\n{text}"
        );
    }

    // Last, as users first see it: the help of the plugin krew installed.
    let (out, text) = kubectl(&["ds", "--help"]);
    assert!(out.status.success(), "{text}");
    let usage = text
        .lines()
        .find(|l| l.starts_with("Usage:"))
        .unwrap_or_else(|| panic!("no usage line:\n{text}"));
    assert!(
        usage.starts_with("Usage: kubectl ds"),
        "installed by krew, the plugin's usage should read `kubectl ds`, got {usage:?}"
    );
}
