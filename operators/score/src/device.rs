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
