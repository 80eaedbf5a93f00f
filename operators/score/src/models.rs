//! The models of the score stage, loaded once per process and shared by the workers (and the `tags` captioner)
//! behind a mutex: libtorch already spreads one call over all cores, and one copy of a ViT-L/14 is enough.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use clipstream_models::aesthetic::AestheticMlp;
use clipstream_models::preprocess::Resize;
use clipstream_models::{Arch, Tokenizer, VideoTextModel, weights};
use clipstream_schemas::config::{ScoreConfig, SimilarityModel};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

use crate::device;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("score.{key}: {reason}")]
    Config { key: &'static str, reason: String },
    #[error("loading {what} from {path}: {source}")]
    Load { what: &'static str, path: String, source: Box<dyn std::error::Error + Send + Sync> },
}

/// The similarity model and its tokenizer.
pub struct Similarity {
    pub model: VideoTextModel,
    pub tokenizer: Tokenizer,
}

/// A CLIP image tower's embeddings through the LAION MLP.
pub struct Aesthetic {
    pub clip: VideoTextModel,
    pub mlp: AestheticMlp,
    _mlp_vars: VarStore,
}

impl Aesthetic {
    /// Scores [N] of CLIP-normalised images [N, 3, S, S].
    pub fn score_images(&self, images: &Tensor) -> Result<Tensor, tch::TchError> {
        let embeddings = self.clip.embed_images(images)?;
        Ok(tch::no_grad(|| self.mlp.score(&embeddings.to_device(Device::Cpu), false)))
    }
}

/// Everything the score stage runs on one device; cheap to clone.
#[derive(Clone)]
pub struct ScoreModels {
    pub similarity: Option<Arc<Mutex<Similarity>>>,
    pub aesthetic: Option<Arc<Mutex<Aesthetic>>>,
    /// The input image size and eval resize of the two models (size 0 when absent), fixed at load: workers read
    /// them to prepare pixels without waiting for a lock that another worker holds for a whole forward pass.
    pub similarity_input: (i64, Resize),
    pub aesthetic_input: (i64, Resize),
    /// Where the models run.
    pub device: Device,
}

impl Default for ScoreModels {
    fn default() -> Self {
        let none = (0, Resize::CLIP);
        Self { similarity: None, aesthetic: None, similarity_input: none, aesthetic_input: none, device: Device::Cpu }
    }
}

/// Locks a shared model; a poisoned lock (a panic mid-call elsewhere) still gives the model, which holds no
/// partial state between calls.
pub fn lock<T>(model: &Mutex<T>) -> MutexGuard<'_, T> {
    model.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn arch(key: &'static str, name: &str) -> Result<Arch, LoadError> {
    Arch::by_name(name).map_err(|e| LoadError::Config { key, reason: e.to_string() })
}

fn load_model(
    key: &'static str,
    arch: &Arch,
    path: &str,
    device: Device,
    kind: Kind,
) -> Result<VideoTextModel, LoadError> {
    if path.is_empty() {
        return Err(LoadError::Config { key, reason: "a safetensors path is required".into() });
    }
    let (mut model, _) = VideoTextModel::load(arch, Path::new(path), device).map_err(|e| LoadError::Load {
        what: "model weights",
        path: path.to_string(),
        source: Box::new(e),
    })?;
    if kind != Kind::Float {
        model.var_store_mut().set_kind(kind);
    }
    Ok(model)
}

impl ScoreModels {
    /// Loads what `config` asks for (nothing when the stage is off) on `score.device`.
    pub fn load(config: &ScoreConfig) -> Result<Self, LoadError> {
        let (device, kind) =
            device::pick(config.device).map_err(|reason| LoadError::Config { key: "device", reason })?;
        Self::load_on(config, device, kind)
    }

    /// One instance of the models per entry of `score.devices` (each on its device), or one on `score.device`
    /// when the list is empty.
    pub fn load_all(config: &ScoreConfig) -> Result<Vec<Self>, LoadError> {
        if config.devices.is_empty() {
            return Ok(vec![Self::load(config)?]);
        }
        config
            .devices
            .iter()
            .map(|name| {
                let (device, kind) =
                    device::parse(name).map_err(|reason| LoadError::Config { key: "devices", reason })?;
                Self::load_on(config, device, kind)
            })
            .collect()
    }

    /// Loads what `config` asks for on `device` with parameters in `kind`.
    pub fn load_on(config: &ScoreConfig, device: Device, kind: Kind) -> Result<Self, LoadError> {
        let mut inputs = ((0, Resize::CLIP), (0, Resize::CLIP));
        let similarity = match config.similarity {
            SimilarityModel::None => None,
            kind_of_model => {
                let arch = arch("arch", &config.arch)?;
                let is_viclip = matches!(arch, Arch::Viclip(_));
                if is_viclip != (kind_of_model == SimilarityModel::Viclip) {
                    let reason = format!("{:?} does not fit score.similarity = {kind_of_model:?}", config.arch);
                    return Err(LoadError::Config { key: "arch", reason });
                }
                let model = load_model("weights", &arch, &config.weights, device, kind)?;
                let tokenizer = Tokenizer::clip().map_err(|e| LoadError::Load {
                    what: "tokenizer",
                    path: "(embedded)".into(),
                    source: Box::new(e),
                })?;
                inputs.0 = model.eval_input();
                Some(Arc::new(Mutex::new(Similarity { model, tokenizer })))
            }
        };
        let aesthetic = if config.aesthetic_weights.is_empty() {
            None
        } else {
            let clip_arch = arch("aesthetic_clip_arch", &config.aesthetic_clip_arch)?;
            let clip = load_model("aesthetic_clip_weights", &clip_arch, &config.aesthetic_clip_weights, device, kind)?;
            let mut vars = VarStore::new(Device::Cpu);
            let mlp = AestheticMlp::new(&vars.root(), clip.embed_dim());
            weights::load(&mut vars, Path::new(&config.aesthetic_weights)).map_err(|e| LoadError::Load {
                what: "aesthetic MLP",
                path: config.aesthetic_weights.clone(),
                source: Box::new(e),
            })?;
            inputs.1 = clip.eval_input();
            Some(Arc::new(Mutex::new(Aesthetic { clip, mlp, _mlp_vars: vars })))
        };
        Ok(Self { similarity, aesthetic, similarity_input: inputs.0, aesthetic_input: inputs.1, device })
    }
}
