//! tf-idf cosine similarity of signatures (Salton & Buckley 1988), with the
//! smoothed idf `ln((1 + N) / (1 + df)) + 1`.
//!
//! The smoothing keeps every weight positive (a term all signatures hold still
//! counts a little) and finite for a term no stored signature holds yet (the query's
//! own new terms lower the similarity, as they should: the incident has something
//! the past one did not).

use std::collections::HashMap;

/// The inverse document frequency of a term `df` of `n` signatures hold.
pub fn idf(n: u64, df: u64) -> f64 {
    ((1.0 + n as f64) / (1.0 + df as f64)).ln() + 1.0
}

/// A tf-idf vector: term → tf × idf.
pub type Vector = HashMap<String, f64>;

/// The tf-idf vector of weighted `terms`, with document frequencies `df` of `n`.
pub fn vector<'a>(
    terms: impl IntoIterator<Item = (&'a str, f64)>,
    n: u64,
    df: impl Fn(&str) -> u64,
) -> Vector {
    terms
        .into_iter()
        .map(|(t, tf)| (t.to_owned(), tf * idf(n, df(t))))
        .collect()
}

/// Cosine of two vectors, 0..1 (0 when either is empty).
pub fn cosine(a: &Vector, b: &Vector) -> f64 {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let dot: f64 = small
        .iter()
        .filter_map(|(t, x)| large.get(t).map(|y| x * y))
        .sum();
    let na = a.values().map(|x| x * x).sum::<f64>().sqrt();
    let nb = b.values().map(|x| x * x).sum::<f64>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        (dot / (na * nb)).clamp(0.0, 1.0)
    }
}

/// The shared terms of `a` and `b`, by their contribution to the dot product,
/// largest first.
pub fn shared_terms(a: &Vector, b: &Vector) -> Vec<(String, f64)> {
    let mut out: Vec<(String, f64)> = a
        .iter()
        .filter_map(|(t, x)| b.get(t).map(|y| (t.clone(), x * y)))
        .collect();
    out.sort_by(|x, y| y.1.total_cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(terms: &[(&str, f64)], n: u64, df: &HashMap<&str, u64>) -> Vector {
        vector(terms.iter().copied(), n, |t| {
            df.get(t).copied().unwrap_or(0)
        })
    }

    #[test]
    fn identical_signatures_are_one_disjoint_zero() {
        let df = HashMap::from([("a", 3), ("b", 1)]);
        let x = v(&[("a", 1.0), ("b", 1.0)], 10, &df);
        assert!((cosine(&x, &x) - 1.0).abs() < 1e-12);
        let y = v(&[("c", 1.0)], 10, &df);
        assert_eq!(cosine(&x, &y), 0.0);
        assert_eq!(cosine(&x, &Vector::new()), 0.0);
    }

    #[test]
    fn rare_shared_terms_weigh_more_than_common_ones() {
        // `alert` is in 900 of 1000 signatures, `tpl` in 2.
        let df = HashMap::from([("alert", 900), ("tpl", 2), ("x", 5), ("y", 5)]);
        let q = v(&[("alert", 1.0), ("tpl", 1.0), ("x", 1.0)], 1000, &df);
        let shares_rare = v(&[("tpl", 1.0), ("y", 1.0)], 1000, &df);
        let shares_common = v(&[("alert", 1.0), ("y", 1.0)], 1000, &df);
        assert!(cosine(&q, &shares_rare) > 2.0 * cosine(&q, &shares_common));
        assert_eq!(shared_terms(&q, &shares_rare)[0].0, "tpl");
    }

    #[test]
    fn idf_is_positive_and_falls_with_document_frequency() {
        assert!(idf(100, 100) > 0.0);
        assert!(idf(100, 1) > idf(100, 10));
        assert!(idf(0, 0).is_finite());
    }
}
