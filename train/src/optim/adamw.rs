//! AdamW (decoupled weight decay, bias-corrected moments) as `torch.optim.AdamW`, over the trainable variables of a
//! `VarStore`. As in CLIP/ViCLIP training, norms, biases, embeddings and the temperature are not decayed. The
//! state (moments and step) is a list of named tensors, so checkpoints save it as safetensors.

use std::collections::BTreeMap;

use tch::nn::VarStore;
use tch::{Kind, Tensor};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamWConfig {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        Self { beta1: 0.9, beta2: 0.98, eps: 1e-6, weight_decay: 0.2 }
    }
}

/// Whether the parameter `name` of `dims` dimensions gets weight decay: matrices and convolutions do; norms,
/// biases, embeddings (token, class, positional, temporal), `temp` and `logit_scale` do not.
pub fn decays(name: &str, dims: usize) -> bool {
    let leaf = name.rsplit('.').next().unwrap_or(name);
    let excluded = name.contains(".ln_") || name.starts_with("ln_") || name.contains("embedding") || leaf == "bias";
    dims >= 2 && !excluded && !matches!(leaf, "temp" | "logit_scale")
}

struct Slot {
    name: String,
    param: Tensor,
    m: Tensor,
    v: Tensor,
    decay: bool,
}

pub struct AdamW {
    config: AdamWConfig,
    slots: Vec<Slot>,
    step: i64,
}

impl AdamW {
    /// Over every variable of `vs` that requires a gradient (frozen ones are left out), in name order.
    pub fn new(vs: &VarStore, config: AdamWConfig) -> Self {
        let variables: BTreeMap<String, Tensor> = vs.variables().into_iter().collect();
        let slots = variables
            .into_iter()
            .filter(|(_, t)| t.requires_grad())
            .map(|(name, param)| Slot {
                decay: decays(&name, param.dim()),
                m: param.zeros_like().to_kind(Kind::Float),
                v: param.zeros_like().to_kind(Kind::Float),
                name,
                param,
            })
            .collect();
        Self { config, slots, step: 0 }
    }

    /// Steps taken.
    pub fn steps(&self) -> i64 {
        self.step
    }

    /// Names of the optimised parameters that are decayed.
    pub fn decayed(&self) -> Vec<&str> {
        self.slots.iter().filter(|s| s.decay).map(|s| s.name.as_str()).collect()
    }

    pub fn zero_grad(&mut self) {
        for slot in &mut self.slots {
            let mut grad = slot.param.grad();
            if grad.defined() {
                let _ = grad.zero_();
            }
        }
    }

    /// Scales the gradients so their global L2 norm is at most `max`; returns the norm before clipping.
    pub fn clip_grad_norm(&mut self, max: f64) -> f64 {
        let grads: Vec<Tensor> = self.slots.iter().map(|s| s.param.grad()).filter(Tensor::defined).collect();
        let total = grads
            .iter()
            .map(|g| g.to_kind(Kind::Float).pow_tensor_scalar(2).sum(Kind::Float).double_value(&[]))
            .sum::<f64>()
            .sqrt();
        if total > max && total > 0.0 {
            let scale = max / (total + 1e-6);
            tch::no_grad(|| {
                for mut g in grads {
                    let _ = g.g_mul_scalar_(scale);
                }
            });
        }
        total
    }

    /// One update at learning rate `lr` from the current gradients (parameters without a gradient are skipped).
    pub fn step(&mut self, lr: f64) {
        self.step += 1;
        let c = self.config;
        let (bias1, bias2) = (1.0 - c.beta1.powi(self.step as i32), 1.0 - c.beta2.powi(self.step as i32));
        tch::no_grad(|| {
            for slot in &mut self.slots {
                let grad = slot.param.grad();
                if !grad.defined() {
                    continue;
                }
                let grad = grad.to_kind(Kind::Float);
                if slot.decay && c.weight_decay > 0.0 {
                    let _ = slot.param.g_mul_scalar_(1.0 - lr * c.weight_decay);
                }
                let _ = slot.m.g_mul_scalar_(c.beta1).g_add_(&(&grad * (1.0 - c.beta1)));
                let _ = slot.v.g_mul_scalar_(c.beta2).g_add_(&(&grad * &grad * (1.0 - c.beta2)));
                let denom = (&slot.v / bias2).sqrt() + c.eps;
                let update = (&slot.m / bias1) / denom * lr;
                let _ = slot.param.g_sub_(&update.to_kind(slot.param.kind()));
            }
        });
    }

    /// The state as named tensors: `exp_avg.{name}`, `exp_avg_sq.{name}` and `step`.
    pub fn state(&self) -> Vec<(String, Tensor)> {
        let mut out = vec![("step".to_string(), Tensor::from(self.step))];
        for slot in &self.slots {
            out.push((format!("exp_avg.{}", slot.name), slot.m.shallow_clone()));
            out.push((format!("exp_avg_sq.{}", slot.name), slot.v.shallow_clone()));
        }
        out
    }

    /// Restores a state written by [`AdamW::state`]; every moment must be present with the right shape.
    pub fn load_state(&mut self, tensors: &BTreeMap<String, Tensor>) -> Result<(), String> {
        let step = tensors.get("step").ok_or("optimizer state has no step")?;
        for slot in &mut self.slots {
            for (prefix, target) in [("exp_avg", &mut slot.m), ("exp_avg_sq", &mut slot.v)] {
                let key = format!("{prefix}.{}", slot.name);
                let source = tensors.get(&key).ok_or_else(|| format!("optimizer state has no {key}"))?;
                if source.size() != target.size() {
                    return Err(format!("{key}: shape {:?}, parameter {:?}", source.size(), target.size()));
                }
                tch::no_grad(|| target.copy_(&source.to_device(target.device()).to_kind(Kind::Float)));
            }
        }
        self.step = step.int64_value(&[]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decay_rules_follow_clip() {
        for (name, dims, decayed) in [
            ("vision_encoder.transformer.resblocks.0.attn.in_proj_weight", 2, true),
            ("vision_encoder.conv1.weight", 5, true),
            ("text_encoder.text_projection", 2, true),
            ("vision_encoder.transformer.resblocks.0.attn.in_proj_bias", 1, false),
            ("vision_encoder.ln_pre.weight", 1, false),
            ("ln_final.weight", 1, false),
            ("text_encoder.token_embedding.weight", 2, false),
            ("vision_encoder.positional_embedding", 2, false),
            ("vision_encoder.temporal_positional_embedding", 3, false),
            ("temp", 0, false),
            ("logit_scale", 0, false),
        ] {
            assert_eq!(decays(name, dims), decayed, "{name}");
        }
    }
}
