//! Compiles the c10d shim (src/shim.cpp) against the libtorch that torch-sys links, the way torch-sys builds its own
//! wrapper. Gloo needs gloo's headers (Debian `libgloo-dev`: the torch wheel ships c10d's headers but not gloo's;
//! only pointers to gloo types are used, so its version does not matter). NCCL is compiled in when the CUDA runtime,
//! CRT, CCCL and NCCL headers of the wheel's nvidia packages are installed (scripts/setup installs them); without
//! them the `nccl` backend is a clear error at start. See docs/distributed.md.

use std::path::{Path, PathBuf};

fn main() {
    let lib = PathBuf::from(std::env::var("DEP_TCH_LIBTORCH_LIB").expect("torch-sys reports its libtorch lib dir"));
    let lib = lib.canonicalize().unwrap_or(lib);
    let torch = lib.parent().expect("libtorch lib dir has a parent").to_path_buf();
    let mut build = cc::Build::new();
    build
        .cpp(true)
        .file("src/shim.cpp")
        .include(torch.join("include"))
        .include(torch.join("include/torch/csrc/api/include"))
        .flag("-std=c++17")
        .flag("-D_GLIBCXX_USE_CXX11_ABI=1")
        .flag("-DGLOG_USE_GLOG_EXPORT")
        .flag("-DUSE_C10D_GLOO")
        .flag_if_supported("-Wno-unused-parameter")
        .flag_if_supported("-Wno-interference-size");
    if let Some(dirs) = nccl_includes(&torch) {
        build.define("CLIPSTREAM_NCCL", None).define("USE_C10D_NCCL", None).includes(dirs);
    } else {
        println!("cargo:warning=CUDA/NCCL headers not found beside {}: the nccl backend is left out", torch.display());
    }
    build.compile("clipstream_c10d");
    // The crate's own tests run without LD_LIBRARY_PATH (the binaries' crates do the same in their build.rs).
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    println!("cargo:rerun-if-changed=src/shim.cpp");
    println!("cargo:rerun-if-changed=src/shim.h");
}

/// The include dirs ProcessGroupNCCL.hpp needs, from the PyPI nvidia packages next to the torch wheel.
fn nccl_includes(torch: &Path) -> Option<Vec<PathBuf>> {
    let nvidia = torch.parent()?.join("nvidia");
    let needed = [("cu13/include", "crt/host_config.h"), ("cu13/include", "nv/target"), ("nccl/include", "nccl.h")];
    let mut dirs = Vec::new();
    for (dir, header) in needed {
        let dir = nvidia.join(dir);
        if !dir.join(header).exists() {
            return None;
        }
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    Some(dirs)
}
