//! Where the models run: CUDA in bf16 when asked for or available, else the CPU in fp32.

use clipstream_schemas::config::DeviceChoice;
use tch::{Device, Kind};

/// The device and parameter dtype for `choice`.
pub fn pick(choice: DeviceChoice) -> Result<(Device, Kind), String> {
    let cuda = tch::Cuda::is_available();
    match choice {
        DeviceChoice::Cpu => Ok((Device::Cpu, Kind::Float)),
        DeviceChoice::Auto if !cuda => Ok((Device::Cpu, Kind::Float)),
        DeviceChoice::Auto | DeviceChoice::Cuda if cuda => Ok((Device::Cuda(0), Kind::BFloat16)),
        _ => Err("score.device = \"cuda\" but CUDA is not available (libtorch_cuda not loaded or no GPU)".to_string()),
    }
}

/// The device and parameter dtype named by an entry of `score.devices`: `cpu` (fp32), `cuda` or `cuda:N` (bf16).
pub fn parse(name: &str) -> Result<(Device, Kind), String> {
    let cuda = |index: usize| {
        if index < tch::Cuda::device_count().max(0) as usize {
            Ok((Device::Cuda(index), Kind::BFloat16))
        } else {
            Err(format!(
                "score.devices names {name:?}, but this machine has {} CUDA devices",
                tch::Cuda::device_count()
            ))
        }
    };
    match name {
        "cpu" => Ok((Device::Cpu, Kind::Float)),
        "cuda" => cuda(0),
        _ => match name.strip_prefix("cuda:").map(str::parse::<usize>) {
            Some(Ok(index)) => cuda(index),
            _ => Err(format!("score.devices entry {name:?} is not \"cpu\", \"cuda\" or \"cuda:N\"")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names() {
        assert_eq!(parse("cpu"), Ok((Device::Cpu, Kind::Float)));
        assert!(parse("gpu0").unwrap_err().contains("not \"cpu\""));
        assert!(parse("cuda:x").is_err());
        if tch::Cuda::device_count() == 0 {
            assert!(parse("cuda:0").unwrap_err().contains("0 CUDA devices"));
        }
    }
}
