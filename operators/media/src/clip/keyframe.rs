//! `cut_keyframe`: stream-copy cutting (no re-encode) of many clips in one demux pass. Each clip starts at the
//! video keyframe at or before its span start, so it may begin up to one GOP early, and keeps every video packet
//! decoded before its end, so with B-frames it may show a few frames past the end. Timestamps are shifted so each
//! clip starts at 0. The audio stream is copied too when the mp4 container accepts its codec.

use std::path::{Path, PathBuf};

use ffmpeg_next::media::Type;
use ffmpeg_next::{Packet, Rational, codec, encoder, format};

use crate::error::MediaError;
use crate::probe::init;
use crate::span::ClipSpan;

/// A clip stays open this long past its end so interleaved audio packets of its last moments still reach it.
const AUDIO_SLACK_S: f64 = 1.0;

fn seconds(r: Rational) -> f64 {
    if r.denominator() == 0 { 0.0 } else { f64::from(r.numerator()) / f64::from(r.denominator()) }
}

/// What the clips need to know about an input stream.
struct InputStream {
    parameters: codec::Parameters,
    time_base: Rational,
    /// Seconds per tick.
    tick_s: f64,
}

/// Timing of one packet of the input, in seconds relative to the video stream's start.
#[derive(Clone, Copy)]
struct PacketTime {
    pts_s: f64,
    /// Decode time (= pts where the container gives none).
    dts_s: f64,
}

/// One clip being written: an mp4 muxer with the video (and maybe audio) stream.
struct CopyClip {
    path: PathBuf,
    output: format::context::Output,
    /// Input stream index -> output stream index and time base.
    map: Vec<Option<(usize, Rational)>>,
    /// Absolute time (input clock, seconds) that becomes 0 in the clip.
    shift_abs_s: f64,
    /// Presentation time of the clip's first (key)frame; earlier audio is dropped.
    start_s: f64,
    end_s: f64,
    video_packets: u64,
}

/// The demux pass: the input, its streams, and the clock origin of the spans.
struct Source<'a> {
    path: &'a Path,
    streams: Vec<InputStream>,
    video: usize,
    audio: Option<usize>,
    /// Absolute time of the video stream start (what the spans' times count from).
    origin_s: f64,
}

impl Source<'_> {
    fn time(&self, packet: &Packet, last_dts_s: f64) -> PacketTime {
        let stream = &self.streams[packet.stream()];
        let rel = |ts: i64| ts as f64 * stream.tick_s - self.origin_s;
        let pts = packet.pts().or(packet.dts()).map_or(last_dts_s, rel);
        let dts = packet.dts().or(packet.pts()).map_or(last_dts_s, rel);
        PacketTime { pts_s: pts, dts_s: dts }
    }

    /// Opens the clip's mp4 file with the video stream and, if `with_audio`, the audio stream.
    fn open(&self, out: &Path, span: &ClipSpan, key: PacketTime, with_audio: bool) -> Result<CopyClip, MediaError> {
        let fail = |what: &str| {
            let what = format!("{what} for {}", out.display());
            move |source| MediaError::Encode { what, source }
        };
        let mut output = format::output_as(out, "mp4").map_err(fail("creating the clip file"))?;
        let mut map = vec![None; self.streams.len()];
        let copied = std::iter::once(self.video).chain(self.audio.filter(|_| with_audio));
        for index in copied {
            let stream = &self.streams[index];
            let mut ost = output.add_stream(encoder::find(codec::Id::None)).map_err(fail("adding a stream"))?;
            ost.set_parameters(stream.parameters.clone());
            ost.set_time_base(stream.time_base);
            map[index] = Some((ost.index(), stream.time_base));
        }
        output.write_header().map_err(|source| MediaError::CopyRefused { path: out.to_path_buf(), source })?;
        for (index, entry) in map.iter_mut().enumerate() {
            if let Some((out_index, time_base)) = entry {
                *time_base = output.stream(*out_index).map_or(self.streams[index].time_base, |s| s.time_base());
            }
        }
        Ok(CopyClip {
            path: out.to_path_buf(),
            output,
            map,
            shift_abs_s: key.dts_s.min(key.pts_s) + self.origin_s,
            start_s: key.pts_s,
            end_s: span.end_s,
            video_packets: 0,
        })
    }

    /// Opens a clip, falling back to video only (for good) when the container refuses the audio codec.
    fn open_clip(
        &self,
        out: &Path,
        span: &ClipSpan,
        key: PacketTime,
        with_audio: &mut bool,
    ) -> Result<CopyClip, MediaError> {
        match self.open(out, span, key, *with_audio) {
            Err(_) if *with_audio => {
                tracing::debug!(path = %self.path.display(), "audio codec not accepted in mp4; clips are video only");
                *with_audio = false;
                self.open(out, span, key, false)
            }
            other => other,
        }
    }
}

impl CopyClip {
    /// Writes a copy of `packet` if it belongs to the clip.
    fn offer(&mut self, source: &Source<'_>, packet: &Packet, time: PacketTime) -> Result<(), MediaError> {
        let index = packet.stream();
        let Some((out_index, out_time_base)) = self.map.get(index).copied().flatten() else { return Ok(()) };
        let eps = 1e-4;
        let wanted = if index == source.video {
            time.dts_s < self.end_s - eps
        } else {
            time.pts_s >= self.start_s - eps && time.pts_s < self.end_s - eps
        };
        if !wanted || packet.size() == 0 {
            return Ok(());
        }
        let stream = &source.streams[index];
        let shift = (self.shift_abs_s / stream.tick_s).round() as i64;
        let mut copy = packet.clone();
        copy.set_pts(packet.pts().map(|ts| ts - shift));
        copy.set_dts(packet.dts().map(|ts| ts - shift));
        copy.rescale_ts(stream.time_base, out_time_base);
        copy.set_position(-1);
        copy.set_stream(out_index);
        copy.write_interleaved(&mut self.output).map_err(|source| MediaError::Encode {
            what: format!("muxing a packet into {}", self.path.display()),
            source,
        })?;
        if index == source.video {
            self.video_packets += 1;
        }
        Ok(())
    }

    fn finish(mut self, span_index: usize) -> Result<(), MediaError> {
        if self.video_packets == 0 {
            return Err(MediaError::Invalid(format!("clip {span_index} starts after the end of the video")));
        }
        self.output.write_trailer().map_err(|source| MediaError::Encode {
            what: format!("writing the mp4 index of {}", self.path.display()),
            source,
        })
    }
}

/// Copies each span of the video at `path` into the matching file of `out_paths`, reading the input once: packets
/// of the current GOP are kept until the next keyframe shows which spans start inside it, and every open clip
/// gets a copy of each packet it needs. Memory: one GOP of compressed packets.
pub fn cut_keyframe(path: &Path, spans: &[ClipSpan], out_paths: &[PathBuf]) -> Result<(), MediaError> {
    if spans.len() != out_paths.len() {
        return Err(MediaError::Invalid(format!("{} spans but {} output paths", spans.len(), out_paths.len())));
    }
    init();
    let mut input = crate::open::open_input(path)?;
    let video_stream =
        input.streams().best(Type::Video).ok_or_else(|| MediaError::NoVideoStream { path: path.to_path_buf() })?;
    let video = video_stream.index();
    let fps = seconds(video_stream.avg_frame_rate());
    let fps = if fps.is_finite() && fps > 0.0 { fps } else { 25.0 };
    let video_tick_s = seconds(video_stream.time_base());
    let start = video_stream.start_time();
    let origin_s = if start == ffmpeg_next::ffi::AV_NOPTS_VALUE { 0.0 } else { start as f64 * video_tick_s };
    let audio = input.streams().best(Type::Audio).map(|s| s.index());
    let streams = input
        .streams()
        .map(|s| InputStream { parameters: s.parameters(), time_base: s.time_base(), tick_s: seconds(s.time_base()) })
        .collect();
    let source = Source { path, streams, video, audio, origin_s };
    let mut with_audio = audio.is_some();

    // Spans in order of start; `next` is the first one not yet opened.
    let mut order: Vec<usize> = (0..spans.len()).collect();
    order.sort_by(|&a, &b| spans[a].start_s.total_cmp(&spans[b].start_s));
    let mut next = 0;
    let mut active: Vec<(usize, CopyClip)> = Vec::new();
    let mut gop: Vec<(Packet, PacketTime)> = Vec::new();
    let mut gop_key: Option<PacketTime> = None;
    let mut last_dts_s = 0.0;
    let half_frame_s = 0.5 / fps;
    let mut packets_read = 0u64;

    // Opens the spans that start before `limit_s` from the buffered GOP.
    let open_pending = |limit_s: f64,
                        next: &mut usize,
                        active: &mut Vec<(usize, CopyClip)>,
                        gop: &[(Packet, PacketTime)],
                        gop_key: Option<PacketTime>,
                        with_audio: &mut bool|
     -> Result<(), MediaError> {
        let Some(key) = gop_key.or_else(|| gop.first().map(|(_, t)| *t)) else { return Ok(()) };
        while *next < order.len() && spans[order[*next]].start_s < limit_s {
            let index = order[*next];
            let mut clip = source.open_clip(&out_paths[index], &spans[index], key, with_audio)?;
            for (buffered, time) in gop {
                clip.offer(&source, buffered, *time)?;
            }
            active.push((index, clip));
            *next += 1;
        }
        Ok(())
    };

    loop {
        // A fresh packet each time: the buffered GOP keeps the ones already read.
        let mut packet = Packet::empty();
        match packet.read(&mut input) {
            Ok(()) => packets_read += 1,
            Err(ffmpeg_next::Error::Eof) => break,
            Err(ffmpeg_next::Error::InvalidData) => continue,
            Err(source) if packets_read == 0 => {
                return Err(MediaError::Decode { path: path.to_path_buf(), frames: 0, source });
            }
            Err(_) => break,
        }
        let index = packet.stream();
        if index != video && Some(index) != audio {
            continue;
        }
        let time = source.time(&packet, last_dts_s);
        if index == video {
            last_dts_s = time.dts_s;
            if packet.is_key() {
                open_pending(time.pts_s - half_frame_s, &mut next, &mut active, &gop, gop_key, &mut with_audio)?;
                gop.clear();
                gop_key = Some(time);
            }
            // Clips whose end (and audio slack) lies behind the decode clock are complete.
            let mut still_open = Vec::with_capacity(active.len());
            for (span_index, clip) in active.drain(..) {
                if time.dts_s >= clip.end_s + AUDIO_SLACK_S {
                    clip.finish(span_index)?;
                } else {
                    still_open.push((span_index, clip));
                }
            }
            active = still_open;
            if next == order.len() && active.is_empty() {
                break;
            }
        }
        for (_, clip) in &mut active {
            clip.offer(&source, &packet, time)?;
        }
        gop.push((packet, time));
    }
    if packets_read == 0 {
        return Err(MediaError::NoFrames { path: path.to_path_buf() });
    }
    open_pending(f64::INFINITY, &mut next, &mut active, &gop, gop_key, &mut with_audio)?;
    for (span_index, clip) in active {
        clip.finish(span_index)?;
    }
    Ok(())
}
