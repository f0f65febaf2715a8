//! kubectl-style tables: no borders, upper-case headers, columns three spaces apart.

use comfy_table::presets::NOTHING;
use comfy_table::{Attribute, Cell, Color, ContentArrangement, Table};

pub use comfy_table::Cell as TableCell;

/// How a table looks: headers or not, color or not.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub headers: bool,
    pub color: bool,
}

/// Builds a table from a header and rows of cells; returns the text without trailing spaces.
pub fn render(style: Style, header: &[&str], rows: Vec<Vec<Cell>>) -> String {
    let mut table = Table::new();
    table
        .load_style(NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled);
    if style.color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    if style.headers {
        table.set_header(header.iter().map(Cell::new));
    }
    let empty = rows.is_empty();
    table.add_rows(rows);
    if empty && !style.headers {
        return String::new();
    }
    let last = header.len().saturating_sub(1);
    for (i, column) in table.column_iter_mut().enumerate() {
        column.set_padding((0, if i == last { 0 } else { 3 }));
    }
    let mut out: String = table
        .lines()
        .map(|l| l.trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n");
    out.push('\n');
    out
}

/// A cell colored by how good the news is, when color is on.
pub fn status_cell(text: impl Into<String>, tone: Tone, color: bool) -> Cell {
    let cell = Cell::new(text.into());
    if !color {
        return cell;
    }
    match tone {
        Tone::Good => cell.fg(Color::Green),
        Tone::Warn => cell.fg(Color::Yellow),
        Tone::Bad => cell.fg(Color::Red).add_attribute(Attribute::Bold),
        Tone::Neutral => cell.fg(Color::DarkGrey),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Good,
    Warn,
    Bad,
    Neutral,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_three_spaces_apart_without_trailing_space() {
        let out = render(
            Style {
                headers: true,
                color: false,
            },
            &["NAME", "READY"],
            vec![
                vec![Cell::new("agent"), Cell::new("3/3")],
                vec![Cell::new("a-longer-name"), Cell::new("0/1")],
            ],
        );
        assert_eq!(
            out,
            "NAME            READY\nagent           3/3\na-longer-name   0/1\n"
        );
    }

    #[test]
    fn no_headers_drops_the_header_line() {
        let out = render(
            Style {
                headers: false,
                color: false,
            },
            &["NAME"],
            vec![vec![Cell::new("x")]],
        );
        assert_eq!(out, "x\n");
    }
}
