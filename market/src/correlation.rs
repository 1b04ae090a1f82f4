//! The correlation of the diffusive shocks between classes, made positive definite.

use nalgebra::{DMatrix, SymmetricEigen};

/// Smallest eigenvalue kept when a sample correlation is repaired.
pub const MIN_EIGENVALUE: f64 = 1e-4;

/// Pearson correlation matrix of the columns of `rows` (each row one date, one value per
/// class).
pub fn sample_correlation(rows: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let k = rows.first().map_or(0, Vec::len);
    let n = rows.len() as f64;
    let mean: Vec<f64> = (0..k)
        .map(|c| rows.iter().map(|r| r[c]).sum::<f64>() / n)
        .collect();
    let cov = |a: usize, b: usize| -> f64 {
        rows.iter()
            .map(|r| (r[a] - mean[a]) * (r[b] - mean[b]))
            .sum::<f64>()
    };
    let sd: Vec<f64> = (0..k).map(|c| cov(c, c).sqrt()).collect();
    (0..k)
        .map(|a| {
            (0..k)
                .map(|b| {
                    if a == b {
                        1.0
                    } else {
                        cov(a, b) / (sd[a] * sd[b])
                    }
                })
                .collect()
        })
        .collect()
}

/// A symmetric positive definite correlation matrix near `m`: eigenvalues below
/// [`MIN_EIGENVALUE`] are raised to it (the spectral projection of Higham 2002's first step),
/// the result rescaled to a unit diagonal, rounded to 4 decimals, and the clipping repeated
/// until the rounded matrix has a Cholesky factor. Returns the matrix, the smallest
/// eigenvalue of the input and whether it had to change anything beyond rounding.
pub fn nearest_positive_definite(m: &[Vec<f64>]) -> (Vec<Vec<f64>>, f64, bool) {
    let k = m.len();
    let a = DMatrix::from_fn(k, k, |i, j| 0.5 * (m[i][j] + m[j][i]));
    let min_eig = SymmetricEigen::new(a.clone()).eigenvalues.min();
    let mut cur = a;
    let mut adjusted = false;
    let mut floor = MIN_EIGENVALUE;
    for _ in 0..20 {
        let e = SymmetricEigen::new(cur.clone());
        if e.eigenvalues.min() < floor {
            adjusted = true;
            let d = DMatrix::from_diagonal(&e.eigenvalues.map(|v| v.max(floor)));
            let r = &e.eigenvectors * d * e.eigenvectors.transpose();
            cur = DMatrix::from_fn(k, k, |i, j| r[(i, j)] / (r[(i, i)] * r[(j, j)]).sqrt());
        }
        let rounded = DMatrix::from_fn(k, k, |i, j| {
            if i == j {
                1.0
            } else {
                let (x, y) = (i.min(j), i.max(j));
                (cur[(x, y)] * 1e4).round() / 1e4
            }
        });
        if rounded.clone().cholesky().is_some()
            && SymmetricEigen::new(rounded.clone()).eigenvalues.min() > 0.0
        {
            let out = (0..k)
                .map(|i| (0..k).map(|j| rounded[(i, j)]).collect())
                .collect();
            return (out, min_eig, adjusted);
        }
        floor *= 4.0;
        cur = rounded;
    }
    // Unreachable in practice (the identity is always accepted); fall back to it.
    let id = (0..k)
        .map(|i| (0..k).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
        .collect();
    (id, min_eig, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_indefinite_matrix_is_repaired_and_a_definite_one_kept() {
        let bad = vec![
            vec![1.0, 0.9, -0.9],
            vec![0.9, 1.0, 0.9],
            vec![-0.9, 0.9, 1.0],
        ];
        let (m, min_eig, adjusted) = nearest_positive_definite(&bad);
        assert!(min_eig < 0.0 && adjusted);
        let d = DMatrix::from_fn(3, 3, |i, j| m[i][j]);
        assert!(d.clone().cholesky().is_some());
        assert!((0..3).all(|i| m[i][i] == 1.0 && (0..3).all(|j| m[i][j] == m[j][i])));
        let good = vec![vec![1.0, 0.5], vec![0.5, 1.0]];
        let (m, _, adjusted) = nearest_positive_definite(&good);
        assert!(!adjusted && m == good);
    }

    #[test]
    fn sample_correlation_of_a_linear_relation_is_one() {
        let rows: Vec<Vec<f64>> = (0..10)
            .map(|i| vec![f64::from(i), 2.0 * f64::from(i) + 1.0, f64::from(i % 3)])
            .collect();
        let c = sample_correlation(&rows);
        assert!((c[0][1] - 1.0).abs() < 1e-12);
        assert!(c[0][2].abs() < 0.5);
    }
}
