//! Lists as aligned tables that fit the terminal: columns padded by display width
//! (a CJK character takes two columns), the widest cells cut with `…` when the
//! rows are wider than the terminal.
//!
//! The width is the terminal's when standard output is one (or `COLUMNS` when the
//! size cannot be read); when the output goes to a pipe or a file, `COLUMNS` if it
//! is set, else the rows are never cut.

use std::io::IsTerminal;

/// Space between two columns.
const GAP: &str = "  ";
/// No column is cut narrower than this (or its header, if that is wider).
const MIN_WIDTH: usize = 6;

/// A column of a [`Table`].
#[derive(Debug, Clone, Copy)]
pub struct Column {
    header: &'static str,
    /// Cut this column before the fixed ones (titles, URLs; not ids).
    flexible: bool,
}

impl Column {
    /// A column that is cut only when the flexible ones are at their narrowest.
    pub const fn fixed(header: &'static str) -> Self {
        Column {
            header,
            flexible: false,
        }
    }

    /// A column cut first when the rows are too wide.
    pub const fn flexible(header: &'static str) -> Self {
        Column {
            header,
            flexible: true,
        }
    }
}

/// Rows under a header line.
#[derive(Debug)]
pub struct Table {
    columns: Vec<Column>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with these columns.
    pub fn new(columns: &[Column]) -> Self {
        Table {
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; line breaks and tabs in a cell become spaces.
    pub fn row<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut row: Vec<String> = cells
            .into_iter()
            .map(|c| c.as_ref().replace(['\n', '\r', '\t'], " "))
            .collect();
        row.resize(self.columns.len(), String::new());
        self.rows.push(row);
    }

    /// Prints the table to standard output, fitted to [`output_width`].
    pub fn print(&self) {
        for line in self.render(output_width()) {
            println!("{line}");
        }
    }

    /// The lines of the table, each at most `width` columns wide when given.
    pub fn render(&self, width: Option<usize>) -> Vec<String> {
        let natural: Vec<usize> = (0..self.columns.len())
            .map(|i| {
                self.rows
                    .iter()
                    .map(|r| console::measure_text_width(&r[i]))
                    .chain([self.columns[i].header.len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let widths = match width {
            Some(width) => self.fit(&natural, width),
            None => natural,
        };
        let header: Vec<String> = self.columns.iter().map(|c| c.header.to_owned()).collect();
        std::iter::once(&header)
            .chain(&self.rows)
            .map(|row| line(row, &widths))
            .collect()
    }

    /// Narrows columns until a line fits in `width`: the widest flexible column
    /// first, down to its minimum, then the widest of the others.
    fn fit(&self, natural: &[usize], width: usize) -> Vec<usize> {
        let mut widths = natural.to_vec();
        let total = |w: &[usize]| w.iter().sum::<usize>() + GAP.len() * w.len().saturating_sub(1);
        let floor = |i: usize| MIN_WIDTH.max(self.columns[i].header.len()).min(natural[i]);
        for flexible_only in [true, false] {
            while total(&widths) > width {
                let widest = (0..widths.len())
                    .filter(|&i| !flexible_only || self.columns[i].flexible)
                    .filter(|&i| widths[i] > floor(i))
                    .max_by_key(|&i| widths[i]);
                match widest {
                    Some(i) => widths[i] -= 1,
                    None => break,
                }
            }
        }
        widths
    }
}

/// One line: cells cut to their column's width with `…`, padded but the last.
fn line(row: &[String], widths: &[usize]) -> String {
    let last = widths.len().saturating_sub(1);
    let mut out = String::new();
    for (i, (cell, &w)) in row.iter().zip(widths).enumerate() {
        let cut = console::truncate_str(cell, w, "…");
        out.push_str(&cut);
        if i < last {
            let used = console::measure_text_width(&cut);
            out.push_str(&" ".repeat(w.saturating_sub(used)));
            out.push_str(GAP);
        }
    }
    out.trim_end().to_owned()
}

/// How wide a line of standard output may be; `None`: no limit.
pub fn output_width() -> Option<usize> {
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0);
    if std::io::stdout().is_terminal() {
        console::Term::stdout()
            .size_checked()
            .map(|(_rows, cols)| usize::from(cols))
            .or(columns)
    } else {
        columns
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sample() -> Table {
        let mut t = Table::new(&[
            Column::fixed("NO"),
            Column::fixed("SEV"),
            Column::flexible("TITLE"),
        ]);
        t.row([
            "INC-20261125-0001",
            "P1",
            "订单服务 错误率 升高 严重 and more words",
        ]);
        t.row(["INC-20261125-0002", "P2", "short"]);
        t
    }

    #[test]
    fn uncut_without_a_width() {
        let lines = sample().render(None);
        assert_eq!(lines[0], "NO                 SEV  TITLE");
        assert!(lines[1].ends_with("and more words"));
        assert_eq!(lines[2], "INC-20261125-0002  P2   short");
    }

    #[test]
    fn cut_to_the_width_by_display_columns() {
        for width in [30, 34, 40, 47] {
            let lines = sample().render(Some(width));
            for l in &lines {
                assert!(console::measure_text_width(l) <= width, "{width}: {l:?}");
            }
            assert!(lines[1].ends_with('…'), "{width}: {:?}", lines[1]);
            assert!(lines[1].starts_with("INC-20261125-0001  P1   "));
        }
    }

    #[test]
    fn fixed_columns_are_cut_last_and_never_below_the_minimum() {
        let lines = sample().render(Some(10));
        // Every column at its floor: the line is as narrow as it can get.
        assert!(lines[1].starts_with("INC-2…  P1   "), "{:?}", lines[1]);
        assert!(lines.iter().all(|l| !l.ends_with(' ')));
    }
}
