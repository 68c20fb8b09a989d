//! Variable masking, Drain's preprocessing step (He et al., "Drain: An Online Log
//! Parsing Approach with Fixed Depth Tree", ICWS 2017) done by hand instead of with
//! regexes: a line is cut into whitespace-separated tokens and the variable parts of
//! each token become [`WILDCARD`].
//!
//! Each token is scanned once: every ASCII alphanumeric run that contains a digit
//! (numbers, IPs, UUIDs, hex, ids, versions, dates), and a digit-free hex run that is
//! long or continues a variable, becomes `<*>`; wildcards separated only by
//! `.:/_-,@#+` collapse into one; a sign belongs to its number; month and weekday
//! abbreviations are variables. The masked line goes into the miner's reused buffer,
//! token positions into its reused vector, cut at [`MinerConfig::max_line_bytes`]
//! (on a character boundary) and [`MinerConfig::max_tokens`].
//!
//! [`MinerConfig::max_line_bytes`]: super::MinerConfig::max_line_bytes
//! [`MinerConfig::max_tokens`]: super::MinerConfig::max_tokens

use super::mining::TemplateMiner;

/// The wildcard that stands for a variable part of a template.
pub const WILDCARD: &str = "<*>";
/// [`WILDCARD`] as the bytes of a masked token.
pub(super) const WILD: &[u8] = WILDCARD.as_bytes();

/// Separators that may sit between two masked runs and be absorbed into one wildcard.
const VARIABLE_JOINERS: &[u8] = b".:/_-,@#+";

impl TemplateMiner {
    /// Masks the line the way the miner sees it, tokens joined by one space
    /// (for tests and for showing users why lines were grouped).
    pub fn mask(&mut self, text: &str) -> String {
        self.tokenize(text);
        let mut out = String::new();
        for (i, &(s, e)) in self.spans.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(&String::from_utf8_lossy(&self.buf[s as usize..e as usize]));
        }
        out
    }

    /// Token `i` of the masked line; empty past the last one.
    pub(super) fn token(&self, i: usize) -> &[u8] {
        match self.spans.get(i) {
            Some(&(s, e)) => self.buf.get(s as usize..e as usize).unwrap_or_default(),
            None => &[],
        }
    }

    /// Masks `text` into `buf`/`spans`.
    pub(super) fn tokenize(&mut self, text: &str) {
        self.buf.clear();
        self.spans.clear();
        let mut end = text.len().min(self.config.max_line_bytes);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let bytes = &text.as_bytes()[..end];
        let buf = &mut self.buf;
        let mut i = 0;
        while i < bytes.len() && self.spans.len() < self.config.max_tokens {
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            if i >= bytes.len() {
                break;
            }
            let token_start = i;
            let start = buf.len();
            // End (in buf) of the last wildcard of this token.
            let mut last_wild: Option<usize> = None;
            while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                let b = bytes[i];
                if !b.is_ascii_alphanumeric() {
                    buf.push(b);
                    i += 1;
                    continue;
                }
                let run = i;
                let mut digit = false;
                while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
                    digit |= bytes[i].is_ascii_digit();
                    i += 1;
                }
                if !digit {
                    let word = &bytes[run..i];
                    // Hex without digits is a variable when it is long (`deadbeefcafe`)
                    // or continues one (the `bdcc` of a UUID).
                    let hex = word.iter().all(u8::is_ascii_hexdigit);
                    let continues = last_wild
                        .is_some_and(|w| buf[w..].iter().all(|c| VARIABLE_JOINERS.contains(c)));
                    if !(hex && (word.len() >= 8 || continues)) {
                        buf.extend_from_slice(word);
                        continue;
                    }
                }
                // A sign belongs to the number: `-42`, `blk_-42`, but not `a-42`.
                if run > token_start
                    && bytes[run - 1] == b'-'
                    && (run - 1 == token_start || !bytes[run - 2].is_ascii_alphanumeric())
                {
                    buf.pop();
                }
                match last_wild {
                    Some(w) if buf[w..].iter().all(|c| VARIABLE_JOINERS.contains(c)) => {
                        buf.truncate(w);
                    }
                    _ => {
                        buf.extend_from_slice(WILD);
                        last_wild = Some(buf.len());
                    }
                }
            }
            if is_date_word(&buf[start..]) {
                buf.truncate(start);
                buf.extend_from_slice(WILD);
            }
            self.spans.push((start as u32, buf.len() as u32));
        }
    }
}

/// Month and weekday abbreviations (`Jun`, `Fri`, optionally ending in `,`): parts of
/// a timestamp inside the message, hence variables.
fn is_date_word(token: &[u8]) -> bool {
    const WORDS: [&[u8]; 19] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec", b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun",
    ];
    let token = token.strip_suffix(b",").unwrap_or(token);
    token.len() == 3 && WORDS.contains(&token)
}

#[cfg(test)]
mod tests {
    use super::super::MinerConfig;
    use super::super::test_util::{add, miner, report};

    #[test]
    fn masks_numbers_ids_addresses_and_dates() {
        let mut m = miner();
        let cases = [
            ("took 42 ms", "took <*> ms"),
            ("offset -17 and +3", "offset <*> and +<*>"),
            ("from 10.0.0.12:8080 to [::1]", "from <*> to [::<*>]"),
            ("ip 2607:f140:6000:8:c6b3:1ff:fecd:467f", "ip <*>"),
            (
                "instance b9000564-fe1a-409b-b8cc-1e88b294cd1d gone",
                "instance <*> gone",
            ),
            ("addr 0x7fed806eb5d ok", "addr <*> ok"),
            ("block blk_-6952295868487656571 done", "block blk_<*> done"),
            (
                "GET /v2/54fadb412c4e/servers/detail",
                "GET /<*>/servers/detail",
            ),
            ("at 2016/9/27:20:30:31.455 start", "at <*> start"),
            ("at Fri Jun 17 07:07:00 2005", "at <*> <*> <*> <*> <*>"),
            ("hash deadbeefcafe seen", "hash <*> seen"),
            ("user alice-2 left", "user alice-<*> left"),
            ("plain words stay", "plain words stay"),
        ];
        for (line, masked) in cases {
            assert_eq!(m.mask(line), masked, "masking {line:?}");
        }
    }

    #[test]
    fn empty_and_whitespace_lines_form_one_template() {
        let mut m = miner();
        let a = add(&mut m, "");
        let b = add(&mut m, "   \t ");
        assert_eq!(a, b);
        assert_eq!(m.template_text(a).as_deref(), Some(""));
    }

    #[test]
    fn huge_lines_are_capped() {
        let mut m = miner();
        let word_line = "word ".repeat(1 << 18); // 1.25 MiB, 262 144 tokens
        let id = add(&mut m, &word_line);
        let text = m.template_text(id).unwrap_or_default();
        assert_eq!(text.split(' ').count(), MinerConfig::default().max_tokens);
        let one_token = "x".repeat(1 << 20);
        let id = add(&mut m, &one_token);
        let text = m.template_text(id).unwrap_or_default();
        assert_eq!(text.len(), MinerConfig::default().max_line_bytes);
        // A cut in the middle of a multi-byte character stays valid UTF-8.
        let wide = "错".repeat(1 << 19);
        let id = add(&mut m, &wide);
        assert!(m.template_text(id).is_some_and(|t| t.len() <= 64 * 1024));
        let t = report(&m);
        assert!(t.iter().all(|t| t.examples.iter().all(|e| e.len() <= 512)));
    }
}
