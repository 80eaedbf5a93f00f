//! Planning a synthetic video from the seed: its theme, shots (length, kind, background, shapes and motions), and
//! the caption of each shot composed from those attributes. Rendering follows the plan; nothing random after it.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::synth::palette::{Colour, Shape, THEMES, Theme};
use crate::synth::spec::SynthSpec;
use crate::synth::truth::{ShotKind, SynthShot, SynthVideo};

/// How a background is painted. Stripes and checkers are two-tone (hue +-4 degrees, value +-0.08 around the
/// background's) and may scroll.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pattern {
    Solid,
    /// Brightness ramps across the frame at `angle` radians.
    Gradient {
        angle: f64,
    },
    /// Bands `period` pixels wide, vertical (side by side) or horizontal.
    Stripes {
        period: f64,
        vertical: bool,
    },
    /// Squares of `cell` pixels.
    Checker {
        cell: f64,
    },
}

/// Which way a scrolling background moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scroll {
    Left,
    Right,
    Up,
    Down,
}

impl Scroll {
    /// Unit step (x, y) of the content.
    pub fn step(self) -> (f64, f64) {
        match self {
            Scroll::Left => (-1.0, 0.0),
            Scroll::Right => (1.0, 0.0),
            Scroll::Up => (0.0, -1.0),
            Scroll::Down => (0.0, 1.0),
        }
    }
}

/// A shot's background: a hue, its saturation and value (brightness), a pattern, and for normal shots a scroll
/// (direction, pixels per frame): the camera-like motion that keeps a normal shot's content score clearly above a
/// still one's even when its shapes move slowly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Background {
    pub colour: Colour,
    pub saturation: f64,
    pub value: f64,
    pub bright: bool,
    pub pattern: Pattern,
    pub scroll: Option<(Scroll, f64)>,
}

/// How a shape moves during its shot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Motion {
    Still,
    LeftToRight,
    RightToLeft,
    Up,
    Down,
    /// Starts at the shape's position with this velocity (pixels per frame) and reflects off the frame edges.
    Bouncing {
        vx: f64,
        vy: f64,
    },
    Growing,
    Shrinking,
    /// Turns by this many radians per frame.
    Rotating {
        speed: f64,
    },
}

impl Motion {
    fn phrase(self) -> Option<&'static str> {
        Some(match self {
            Motion::Still => return None,
            Motion::LeftToRight => "moving left to right",
            Motion::RightToLeft => "moving right to left",
            Motion::Up => "moving up",
            Motion::Down => "moving down",
            Motion::Bouncing { .. } => "bouncing around",
            Motion::Growing => "growing",
            Motion::Shrinking => "shrinking",
            Motion::Rotating { .. } => "rotating",
        })
    }
}

/// One shape of a shot: its home position (pixels), size (radius in pixels), start angle and motion.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShapePlan {
    pub shape: Shape,
    pub colour: Colour,
    pub x: f64,
    pub y: f64,
    pub radius: f64,
    pub angle: f64,
    pub motion: Motion,
}

/// One shot: frames `start..end` of the video.
#[derive(Debug, Clone, PartialEq)]
pub struct ShotPlan {
    pub start: u64,
    pub end: u64,
    pub kind: ShotKind,
    pub background: Background,
    pub shapes: Vec<ShapePlan>,
    /// Flashing shots: the content score aimed at between consecutive frames, one per frame of the shot.
    pub flash_targets: Vec<f64>,
}

impl ShotPlan {
    pub fn frames(&self) -> u64 {
        self.end - self.start
    }

    /// "a red circle moving left to right and a yellow star growing on a dark blue striped background", "a still
    /// image of a green square on a bright purple gradient background". Every word names something a model sees in
    /// 4 frames a quarter-clip apart; the background's scroll is left out: its stripe period and speed alias at
    /// that spacing (the apparent direction is reversed or ambiguous in most clips).
    pub fn caption(&self) -> String {
        let shapes: Vec<String> = self
            .shapes
            .iter()
            .map(|s| {
                let base = format!("a {} {}", s.colour.name, s.shape.name());
                match s.motion.phrase() {
                    Some(motion) => format!("{base} {motion}"),
                    None => base,
                }
            })
            .collect();
        let bg = &self.background;
        let pattern = match bg.pattern {
            Pattern::Solid => "background",
            Pattern::Gradient { .. } => "gradient background",
            Pattern::Stripes { .. } => "striped background",
            Pattern::Checker { .. } => "checkered background",
        };
        let tone = if bg.bright { "bright" } else { "dark" };
        let prefix = match self.kind {
            ShotKind::Still => "a still image of ",
            _ => "",
        };
        let flashing = if self.kind == ShotKind::Flashing { "flashing " } else { "" };
        format!("{prefix}{} on a {flashing}{tone} {} {pattern}", shapes.join(" and "), bg.colour.name)
    }
}

/// Everything needed to render one synthetic video, and its ground truth.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoPlan {
    pub truth: SynthVideo,
    pub width: u32,
    pub height: u32,
    pub shots: Vec<ShotPlan>,
}

/// The name of video `index` of a dataset.
pub fn video_name(index: usize) -> String {
    format!("synth-{index:04}")
}

fn background(
    rng: &mut ChaCha8Rng,
    colour: Colour,
    bright: bool,
    kind: ShotKind,
    width: u32,
    height: u32,
) -> Background {
    let (saturation, value) = if bright {
        (rng.random_range(0.55..0.8), rng.random_range(0.86..0.94))
    } else {
        (rng.random_range(0.6..0.9), rng.random_range(0.3..0.38))
    };
    let short = f64::from(width.min(height));
    let scrolls = kind == ShotKind::Normal;
    let pattern = match rng.random_range(if scrolls { 2..4 } else { 0..4 }) {
        0 => Pattern::Solid,
        1 => Pattern::Gradient { angle: rng.random_range(0.0..std::f64::consts::TAU) },
        2 => {
            Pattern::Stripes { period: (short * rng.random_range(0.08..0.14)).max(3.0), vertical: rng.random_bool(0.5) }
        }
        _ => Pattern::Checker { cell: (short * rng.random_range(0.08..0.14)).max(3.0) },
    };
    let scroll = scrolls.then(|| {
        let direction = match pattern {
            Pattern::Stripes { vertical: true, .. } => [Scroll::Left, Scroll::Right][rng.random_range(0..2)],
            Pattern::Stripes { vertical: false, .. } => [Scroll::Up, Scroll::Down][rng.random_range(0..2)],
            _ => [Scroll::Left, Scroll::Right, Scroll::Up, Scroll::Down][rng.random_range(0..4)],
        };
        (direction, short * rng.random_range(0.006..0.012))
    });
    Background { colour, saturation, value, bright, pattern, scroll }
}

fn motion(rng: &mut ChaCha8Rng, shape: Shape, scale: f64) -> Motion {
    let options = if shape == Shape::Circle { 7 } else { 8 };
    match rng.random_range(0..options) {
        0 => Motion::LeftToRight,
        1 => Motion::RightToLeft,
        2 => Motion::Up,
        3 => Motion::Down,
        4 => {
            let mut speed = || rng.random_range(1.5..3.0) * scale * if rng.random_bool(0.5) { 1.0 } else { -1.0 };
            let vx = speed();
            let vy = speed();
            Motion::Bouncing { vx, vy }
        }
        5 => Motion::Growing,
        6 => Motion::Shrinking,
        _ => Motion::Rotating { speed: rng.random_range(0.03..0.07) * if rng.random_bool(0.5) { 1.0 } else { -1.0 } },
    }
}

fn shapes(rng: &mut ChaCha8Rng, theme: &Theme, kind: ShotKind, width: u32, height: u32) -> Vec<ShapePlan> {
    let count = if rng.random_bool(0.4) { 2 } else { 1 };
    let (w, h) = (f64::from(width), f64::from(height));
    let short = w.min(h);
    let first = rng.random_range(0..2);
    (0..count)
        .map(|i| {
            let shape = theme.shapes[(first + i) % 2];
            let colour = theme.shape_colours[rng.random_range(0..2)];
            let radius = short * rng.random_range(0.1..0.17);
            let motion = if kind == ShotKind::Still { Motion::Still } else { motion(rng, shape, short / 240.0) };
            // Two shapes keep to their own lane: top/bottom half (or left/right for vertical motion).
            let lane_fraction = if count == 1 { rng.random_range(0.35..0.65) } else { 0.28 + 0.44 * i as f64 };
            let along = rng.random_range(0.3..0.7);
            let (x, y) = match motion {
                Motion::Up | Motion::Down => (w * lane_fraction, h / 2.0),
                _ => (w * along, h * lane_fraction),
            };
            ShapePlan { shape, colour, x, y, radius, angle: rng.random_range(0.0..std::f64::consts::TAU), motion }
        })
        .collect()
}

/// `shapes` moved by up to `by` pixels each way and turned to a new start angle (same shapes, colours, motions).
fn nudged(rng: &mut ChaCha8Rng, shapes: &[ShapePlan], by: f64) -> Vec<ShapePlan> {
    shapes
        .iter()
        .map(|s| ShapePlan {
            x: s.x + rng.random_range(-by..=by),
            y: s.y + rng.random_range(-by..=by),
            angle: rng.random_range(0.0..std::f64::consts::TAU),
            ..*s
        })
        .collect()
}

/// Plans video `index` of the dataset `spec` describes. Each video draws from its own ChaCha stream of the seed,
/// so a video does not change when the dataset grows.
pub fn plan_video(spec: &SynthSpec, index: usize) -> VideoPlan {
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    rng.set_stream(index as u64);
    let theme = &THEMES[rng.random_range(0..THEMES.len())];
    let (width, height) = (spec.width.max(16) & !1, spec.height.max(16) & !1);
    let fps = f64::from(spec.fps.max(1));
    let shot_count = rng.random_range(spec.min_shots.max(1)..=spec.max_shots.max(spec.min_shots.max(1)));
    let bright_phase = rng.random_range(0..2);
    let mut last_bg = usize::MAX;
    let mut bg_indices = Vec::with_capacity(shot_count as usize);
    let mut start = 0u64;
    let mut shots = Vec::with_capacity(shot_count as usize);
    for i in 0..shot_count {
        let seconds = if spec.max_shot_s > spec.min_shot_s {
            rng.random_range(spec.min_shot_s..spec.max_shot_s)
        } else {
            spec.min_shot_s
        };
        let frames = ((seconds * fps).round() as u64).max(2);
        // A retake of the shot before last: the same scene and caption with the shapes nudged, a near-duplicate
        // clip of the same video (what makes same-video negatives false negatives in contrastive training).
        let retake = i >= 2 && spec.repeat_ratio > 0.0 && rng.random_bool(spec.repeat_ratio.clamp(0.0, 1.0));
        let (bg_index, kind, background, shapes) = if retake {
            let earlier: &ShotPlan = &shots[i as usize - 2];
            let nudge = f64::from(width.min(height)) * 0.05;
            let shapes = nudged(&mut rng, &earlier.shapes, nudge);
            (bg_indices[i as usize - 2], earlier.kind, earlier.background, shapes)
        } else {
            // Adjacent shots alternate dark and bright and never share a background hue: every cut is a big change.
            let bright = (i + bright_phase) % 2 == 0;
            let bg_index = (0..3).filter(|&b| b != last_bg).nth(rng.random_range(0..2)).unwrap_or(0);
            let kind = if rng.random_bool(spec.still_ratio.clamp(0.0, 1.0)) {
                ShotKind::Still
            } else if bright && rng.random_bool(spec.flashing_ratio.clamp(0.0, 1.0)) {
                // Only bright shots flash: dimming a dark one would not reach the flashing score.
                ShotKind::Flashing
            } else {
                ShotKind::Normal
            };
            let background = background(&mut rng, theme.backgrounds[bg_index], bright, kind, width, height);
            (bg_index, kind, background, shapes(&mut rng, theme, kind, width, height))
        };
        last_bg = bg_index;
        bg_indices.push(bg_index);
        let flash_targets = if kind == ShotKind::Flashing {
            (0..frames).map(|_| rng.random_range(20.0..22.5)).collect()
        } else {
            Vec::new()
        };
        shots.push(ShotPlan { start, end: start + frames, kind, background, shapes, flash_targets });
        start += frames;
    }
    let name = video_name(index);
    let truth = SynthVideo {
        path: format!("{name}.mp4"),
        video: name,
        fps: spec.fps.max(1),
        frames: start,
        width,
        height,
        theme: theme.name.to_string(),
        cut_frames: shots.iter().skip(1).map(|s| s.start).collect(),
        shots: shots
            .iter()
            .map(|s| SynthShot {
                start_frame: s.start,
                end_frame: s.end,
                kind: s.kind,
                caption: s.caption(),
                category: s.shapes.first().map_or("none", |shape| shape.shape.name()).to_string(),
            })
            .collect(),
    };
    VideoPlan { truth, width, height, shots }
}
