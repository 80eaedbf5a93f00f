//! Loading safetensors weights into a model by name: every model parameter must be in the file with the same
//! shape, and the file must hold nothing else; a mismatch fails loudly with the full list (a converted checkpoint
//! of the wrong architecture never loads silently).

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use tch::nn::VarStore;
use tch::{TchError, Tensor};

/// How a file differs from a model.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct KeyReport {
    /// Model parameters not in the file.
    pub missing: Vec<String>,
    /// File tensors the model does not have.
    pub unexpected: Vec<String>,
    /// `(name, model shape, file shape)`.
    pub mismatched: Vec<(String, Vec<i64>, Vec<i64>)>,
    /// Tensors that match.
    pub matched: usize,
}

impl KeyReport {
    pub fn is_exact(&self) -> bool {
        self.missing.is_empty() && self.unexpected.is_empty() && self.mismatched.is_empty()
    }

    /// Compares the model's `(name, shape)` list with the file's.
    pub fn compare(model: &BTreeMap<String, Vec<i64>>, file: &BTreeMap<String, Vec<i64>>) -> Self {
        let mut report = Self::default();
        for (name, shape) in model {
            match file.get(name) {
                None => report.missing.push(name.clone()),
                Some(found) if found != shape => report.mismatched.push((name.clone(), shape.clone(), found.clone())),
                Some(_) => report.matched += 1,
            }
        }
        report.unexpected = file.keys().filter(|k| !model.contains_key(*k)).cloned().collect();
        report
    }
}

impl fmt::Display for KeyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} matched, {} missing, {} unexpected, {} mis-shaped",
            self.matched,
            self.missing.len(),
            self.unexpected.len(),
            self.mismatched.len()
        )?;
        for name in &self.missing {
            write!(f, "\n  missing: {name}")?;
        }
        for name in &self.unexpected {
            write!(f, "\n  unexpected: {name}")?;
        }
        for (name, want, got) in &self.mismatched {
            write!(f, "\n  mis-shaped: {name}: model {want:?}, file {got:?}")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    #[error("reading {path}: {source}")]
    Read { path: String, source: TchError },
    #[error("{path} does not fit the model: {report}")]
    Keys { path: String, report: KeyReport },
}

/// The `(name, shape)` of every parameter of a model.
pub fn model_shapes(vs: &VarStore) -> BTreeMap<String, Vec<i64>> {
    vs.variables().into_iter().map(|(name, t)| (name, t.size())).collect()
}

/// Reads every tensor of a safetensors file.
pub fn read(path: &Path) -> Result<Vec<(String, Tensor)>, WeightsError> {
    Tensor::read_safetensors(path).map_err(|source| WeightsError::Read { path: path.display().to_string(), source })
}

/// Compares a safetensors file with a model without loading it into the model.
pub fn check(vs: &VarStore, path: &Path) -> Result<KeyReport, WeightsError> {
    let file = read(path)?.into_iter().map(|(name, t)| (name, t.size())).collect();
    Ok(KeyReport::compare(&model_shapes(vs), &file))
}

/// Loads `path` into `vs` by name (converting dtype and device), failing on any missing, extra or mis-shaped
/// tensor.
pub fn load(vs: &mut VarStore, path: &Path) -> Result<KeyReport, WeightsError> {
    let tensors: BTreeMap<String, Tensor> = read(path)?.into_iter().collect();
    let file = tensors.iter().map(|(name, t)| (name.clone(), t.size())).collect();
    let report = KeyReport::compare(&model_shapes(vs), &file);
    if !report.is_exact() {
        return Err(WeightsError::Keys { path: path.display().to_string(), report });
    }
    tch::no_grad(|| {
        for (name, mut var) in vs.variables() {
            let source = &tensors[&name];
            var.copy_(&source.to_kind(var.kind()).to_device(var.device()));
        }
    });
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shapes(entries: &[(&str, &[i64])]) -> BTreeMap<String, Vec<i64>> {
        entries.iter().map(|(n, s)| (n.to_string(), s.to_vec())).collect()
    }

    #[test]
    fn report_lists_every_difference() {
        let model = shapes(&[("a", &[2, 3]), ("b", &[4]), ("c", &[])]);
        let file = shapes(&[("a", &[2, 3]), ("b", &[5]), ("d", &[1])]);
        let report = KeyReport::compare(&model, &file);
        assert_eq!(report.missing, vec!["c".to_string()]);
        assert_eq!(report.unexpected, vec!["d".to_string()]);
        assert_eq!(report.mismatched, vec![("b".to_string(), vec![4], vec![5])]);
        assert_eq!(report.matched, 1);
        assert!(!report.is_exact());
        let text = report.to_string();
        assert!(text.contains("missing: c") && text.contains("unexpected: d") && text.contains("model [4], file [5]"));
        assert!(KeyReport::compare(&model, &model).is_exact());
    }
}
