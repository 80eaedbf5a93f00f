//! The symmetric InfoNCE loss against a naive f64 implementation written from the definition, with and without the
//! same-video mask, and its gradient against finite differences.

use clipstream_models::loss::info_nce;
use tch::{Device, Kind, Tensor};

fn rows(t: &Tensor) -> Vec<Vec<f64>> {
    let (n, d) = t.size2().expect("2-d");
    (0..n).map(|i| (0..d).map(|j| t.double_value(&[i, j])).collect()).collect()
}

fn unit(v: &[f64]) -> Vec<f64> {
    let n = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    v.iter().map(|x| x / n).collect()
}

/// -log softmax of the diagonal, rows then columns, averaged; pairs (i, j != i) with ids[i] == ids[j] skipped.
fn naive(video: &Tensor, text: &Tensor, temp: f64, ids: Option<&[i64]>) -> f64 {
    let (v, t): (Vec<_>, Vec<_>) =
        (rows(video).iter().map(|r| unit(r)).collect(), rows(text).iter().map(|r| unit(r)).collect());
    let b = v.len();
    let sim = |i: usize, j: usize| v[i].iter().zip(&t[j]).map(|(a, b)| a * b).sum::<f64>() / temp;
    let kept = |i: usize, j: usize| i == j || ids.is_none_or(|ids| ids[i] != ids[j]);
    let mut total = 0.0;
    for i in 0..b {
        let row: f64 = (0..b).filter(|&j| kept(i, j)).map(|j| sim(i, j).exp()).sum();
        let col: f64 = (0..b).filter(|&j| kept(j, i)).map(|j| sim(j, i).exp()).sum();
        total += (row.ln() - sim(i, i)) + (col.ln() - sim(i, i));
    }
    total / (2.0 * b as f64)
}

fn inputs(seed: i64) -> (Tensor, Tensor) {
    tch::manual_seed(seed);
    let opts = (Kind::Double, Device::Cpu);
    (Tensor::randn([6, 5], opts), Tensor::randn([6, 5], opts))
}

#[test]
fn equals_the_definition() {
    let (v, t) = inputs(1);
    for temp in [0.07, 0.01, 1.0] {
        let got = info_nce(&v, &t, &Tensor::from(temp), None).double_value(&[]);
        let want = naive(&v, &t, temp, None);
        assert!((got - want).abs() < 1e-4 * want.abs().max(1.0), "temp {temp}: {got} vs {want}");
    }
}

#[test]
fn the_mask_removes_exactly_the_same_video_pairs() {
    let (v, t) = inputs(2);
    let ids = [7_i64, 7, 3, 9, 3, 7];
    let id_tensor = Tensor::from_slice(&ids);
    let got = info_nce(&v, &t, &Tensor::from(0.1), Some(&id_tensor)).double_value(&[]);
    let want = naive(&v, &t, 0.1, Some(&ids));
    assert!((got - want).abs() < 1e-4, "{got} vs {want}");
    let unmasked = info_nce(&v, &t, &Tensor::from(0.1), None).double_value(&[]);
    assert!(got < unmasked, "removing negatives lowers the loss: {got} vs {unmasked}");
    let distinct = Tensor::from_slice(&[1_i64, 2, 3, 4, 5, 6]);
    let same = info_nce(&v, &t, &Tensor::from(0.1), Some(&distinct)).double_value(&[]);
    assert!((same - unmasked).abs() < 1e-9, "all-distinct ids change nothing");
}

#[test]
fn gradient_matches_finite_differences() {
    let (v, t) = inputs(3);
    let v = v.set_requires_grad(true);
    let temp = Tensor::from(0.2).to_kind(Kind::Double).set_requires_grad(true);
    let ids = Tensor::from_slice(&[1_i64, 1, 2, 3, 3, 4]);
    let loss = info_nce(&v, &t, &temp, Some(&ids));
    loss.backward();
    let grad = v.grad();
    let eps = 1e-6;
    for (i, j) in [(0, 0), (1, 3), (4, 2), (5, 4)] {
        let bumped = |delta: f64| {
            let w = v.detach().copy();
            let _ = w.get(i).get(j).g_add_scalar_(delta);
            info_nce(&w, &t, &temp.detach(), Some(&ids)).to_kind(Kind::Double).double_value(&[])
        };
        let numeric = (bumped(eps) - bumped(-eps)) / (2.0 * eps);
        let analytic = grad.double_value(&[i, j]);
        assert!((numeric - analytic).abs() < 1e-4, "d/dv[{i},{j}]: {analytic} vs {numeric}");
    }
    assert!(temp.grad().double_value(&[]).abs() > 0.0, "the temperature is learned");
}
