//! temporary debug
use std::ops::ControlFlow;
use clipstream_media::VideoDecoder;
use clipstream_media::scene::{BgrRows, yuv::YuvPlanes};
use ffmpeg_next::format::Pixel;
use ffmpeg_next::software::scaling;
use ffmpeg_next::util::frame::Video;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let mut dec = VideoDecoder::open(std::path::Path::new(&path), 1).unwrap();
    let mut hist = [0u64; 512];
    let mut n = 0;
    dec.for_each_frame(|d| {
        let f = d.frame;
        let (w, h) = (f.width(), f.height());
        let mut ctx = scaling::Context::get(f.format(), w, h, Pixel::BGR24, w, h, scaling::Flags::BICUBIC).unwrap();
        let mut out = Video::empty();
        ctx.run(f, &mut out).unwrap();
        let Some(mut planes) = YuvPlanes::new(f) else { println!("not sampled"); return ControlFlow::Break(()) };
        let cols: Vec<usize> = (0..w as usize).collect();
        let mut row = vec![0u8; w as usize * 3];
        for y in 0..h as usize {
            planes.gather(y, &cols, &mut row);
            let sw = &out.data(0)[y * out.stride(0)..y * out.stride(0) + w as usize * 3];
            for (a, b) in row.iter().zip(sw) { hist[(i32::from(*a) - i32::from(*b) + 256) as usize] += 1; }
            if n == 0 && y == 40 { println!("{:?}\n{:?}", &row[..24], &sw[..24]); }
        }
        n += 1;
        if n >= 5 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    }).unwrap();
    for (i, c) in hist.iter().enumerate() { if *c > 0 { println!("{} {}", i as i32 - 256, c); } }
}
