//! Rendering a planned synthetic video frame by frame into packed RGB24: a static background per shot, hard-edged
//! shapes at their positions for the frame, and for flashing shots a whole-frame brightness strobe sized to a
//! target content score.

use crate::synth::palette::{Shape, hsv_to_rgb};
use crate::synth::plan::{Background, Motion, Pattern, ShapePlan, ShotPlan, VideoPlan};
use crate::synth::truth::ShotKind;

/// Shapes are drawn at this saturation and value.
const SHAPE_SATURATION: f64 = 0.85;
const SHAPE_VALUE: f64 = 0.95;

/// Renders the frames of one video in order, caching the current shot's background when it does not scroll.
pub struct Renderer<'a> {
    plan: &'a VideoPlan,
    shot: Option<usize>,
    background: Vec<u8>,
}

impl<'a> Renderer<'a> {
    pub fn new(plan: &'a VideoPlan) -> Self {
        Self { plan, shot: None, background: Vec::new() }
    }

    /// Writes frame `frame` of the video into `rgb` (resized to width * height * 3). Frames past the end repeat
    /// the last shot.
    pub fn render(&mut self, frame: u64, rgb: &mut Vec<u8>) {
        let plan = self.plan;
        let Some(index) = plan.shots.iter().position(|s| frame < s.end).or(plan.shots.len().checked_sub(1)) else {
            rgb.clear();
            rgb.resize(plan.width as usize * plan.height as usize * 3, 0);
            return;
        };
        let shot = &plan.shots[index];
        let t = frame.saturating_sub(shot.start).min(shot.frames() - 1);
        if shot.background.scroll.is_some() {
            rgb.clear();
            rgb.extend_from_slice(&paint_background(&shot.background, t, plan.width, plan.height));
        } else {
            if self.shot != Some(index) {
                self.background = paint_background(&shot.background, 0, plan.width, plan.height);
                self.shot = Some(index);
            }
            rgb.clear();
            rgb.extend_from_slice(&self.background);
        }
        for shape in &shot.shapes {
            draw_shape(rgb, plan.width, plan.height, &place(shape, shot, t, plan.width, plan.height));
        }
        if shot.kind == ShotKind::Flashing {
            strobe(rgb, shot, t);
        }
    }
}

impl VideoPlan {
    /// Renders frame `frame` alone (repaints the background; use [`Renderer`] for whole videos).
    pub fn render_frame(&self, frame: u64, rgb: &mut Vec<u8>) {
        Renderer::new(self).render(frame, rgb);
    }
}

/// Paints the background as it stands at frame `t` of its shot (scrolled by `t` steps if it scrolls).
fn paint_background(bg: &Background, t: u64, width: u32, height: u32) -> Vec<u8> {
    let (w, h) = (f64::from(width), f64::from(height));
    let half_diagonal = (w * w + h * h).sqrt() / 2.0;
    let (ox, oy) = bg.scroll.map_or((0.0, 0.0), |(direction, speed)| {
        let (dx, dy) = direction.step();
        (-dx * speed * t as f64, -dy * speed * t as f64)
    });
    let tones = [
        hsv_to_rgb(bg.colour.hue + 4.0, bg.saturation, (bg.value + 0.08).min(1.0)),
        hsv_to_rgb(bg.colour.hue - 4.0, bg.saturation, bg.value - 0.08),
    ];
    let band = |v: f64, size: f64| ((v / size.max(1.0)).floor() as i64).rem_euclid(2) as usize;
    let mut rgb = Vec::with_capacity(width as usize * height as usize * 3);
    for y in 0..height {
        let fy = f64::from(y) + oy;
        for x in 0..width {
            let fx = f64::from(x) + ox;
            let pixel = match bg.pattern {
                Pattern::Solid => hsv_to_rgb(bg.colour.hue, bg.saturation, bg.value),
                Pattern::Gradient { angle } => {
                    let (cx, cy) = (fx - w / 2.0, fy - h / 2.0);
                    let delta = 0.07 * (cx * angle.cos() + cy * angle.sin()) / half_diagonal;
                    hsv_to_rgb(bg.colour.hue, bg.saturation, (bg.value * (1.0 + delta)).min(1.0))
                }
                Pattern::Stripes { period, vertical } => tones[band(if vertical { fx } else { fy }, period)],
                Pattern::Checker { cell } => tones[(band(fx, cell) + band(fy, cell)) % 2],
            };
            rgb.extend_from_slice(&pixel);
        }
    }
    rgb
}

/// Position `p` reflected back and forth inside `lo..=hi`.
fn reflect(p: f64, lo: f64, hi: f64) -> f64 {
    let span = (hi - lo).max(1e-9);
    let q = (p - lo).rem_euclid(2.0 * span);
    if q > span { lo + 2.0 * span - q } else { lo + q }
}

/// The shape as it stands at frame `t` of its shot.
fn place(shape: &ShapePlan, shot: &ShotPlan, t: u64, width: u32, height: u32) -> ShapePlan {
    let (w, h) = (f64::from(width), f64::from(height));
    let u = if shot.frames() > 1 { t as f64 / (shot.frames() - 1) as f64 } else { 0.0 };
    let t = t as f64;
    let r = shape.radius * 1.05;
    let mut placed = *shape;
    match shape.motion {
        Motion::Still => {}
        Motion::LeftToRight => placed.x = r + (w - 2.0 * r) * u,
        Motion::RightToLeft => placed.x = w - r - (w - 2.0 * r) * u,
        Motion::Up => placed.y = h - r - (h - 2.0 * r) * u,
        Motion::Down => placed.y = r + (h - 2.0 * r) * u,
        Motion::Bouncing { vx, vy } => {
            placed.x = reflect(shape.x + vx * t, r, w - r);
            placed.y = reflect(shape.y + vy * t, r, h - r);
        }
        Motion::Growing => placed.radius = shape.radius * (0.4 + 0.6 * u),
        Motion::Shrinking => placed.radius = shape.radius * (1.0 - 0.6 * u),
        Motion::Rotating { speed } => placed.angle = shape.angle + speed * t,
    }
    placed
}

/// Polygon corners of a shape in its own frame (radius 1, unrotated).
fn outline(shape: Shape) -> Vec<(f64, f64)> {
    let ring = |n: usize, start_deg: f64, radius: &dyn Fn(usize) -> f64| -> Vec<(f64, f64)> {
        (0..n)
            .map(|k| {
                let a = (start_deg + 360.0 * k as f64 / n as f64).to_radians();
                (radius(k) * a.cos(), radius(k) * a.sin())
            })
            .collect()
    };
    match shape {
        Shape::Circle => Vec::new(),
        Shape::Square => ring(4, 45.0, &|_| 0.85),
        Shape::Diamond => ring(4, 0.0, &|_| 1.0),
        Shape::Triangle => ring(3, -90.0, &|_| 1.0),
        Shape::Star => ring(10, -90.0, &|k| if k % 2 == 0 { 1.0 } else { 0.45 }),
    }
}

/// Even-odd point-in-polygon test.
fn inside(polygon: &[(f64, f64)], x: f64, y: f64) -> bool {
    let mut result = false;
    let mut j = polygon.len() - 1;
    for i in 0..polygon.len() {
        let ((xi, yi), (xj, yj)) = (polygon[i], polygon[j]);
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            result = !result;
        }
        j = i;
    }
    result
}

fn draw_shape(rgb: &mut [u8], width: u32, height: u32, shape: &ShapePlan) {
    let colour = hsv_to_rgb(shape.colour.hue, SHAPE_SATURATION, SHAPE_VALUE);
    let r = shape.radius.max(0.5);
    let (sin, cos) = shape.angle.sin_cos();
    let polygon: Vec<(f64, f64)> = outline(shape.shape)
        .into_iter()
        .map(|(px, py)| (shape.x + r * (px * cos - py * sin), shape.y + r * (px * sin + py * cos)))
        .collect();
    let clamp = |v: f64, max: u32| v.floor().clamp(0.0, f64::from(max)) as u32;
    let (x0, x1) = (clamp(shape.x - r, width), clamp(shape.x + r + 1.0, width));
    let (y0, y1) = (clamp(shape.y - r, height), clamp(shape.y + r + 1.0, height));
    for y in y0..y1 {
        let fy = f64::from(y) + 0.5;
        for x in x0..x1 {
            let fx = f64::from(x) + 0.5;
            let hit = if polygon.is_empty() {
                (fx - shape.x).powi(2) + (fy - shape.y).powi(2) <= r * r
            } else {
                inside(&polygon, fx, fy)
            };
            if hit {
                let at = (y as usize * width as usize + x as usize) * 3;
                rgb[at..at + 3].copy_from_slice(&colour);
            }
        }
    }
}

/// Flashing shots alternate full and dimmed brightness (first and last frames full); the dimming of frame `t` is
/// sized so the mean |dV| / 3 between it and its neighbours equals the planned target score (H and S do not change
/// when RGB is scaled).
fn strobe(rgb: &mut [u8], shot: &ShotPlan, t: u64) {
    if t.is_multiple_of(2) || t + 1 == shot.frames() {
        return;
    }
    let pixels = (rgb.len() / 3).max(1);
    let mean_v = rgb.chunks_exact(3).map(|p| f64::from(p[0].max(p[1]).max(p[2]))).sum::<f64>() / pixels as f64;
    let target = shot.flash_targets.get(t as usize).copied().unwrap_or(22.0);
    let factor = (1.0 - 3.0 * target / mean_v.max(1.0)).clamp(0.0, 1.0);
    for c in rgb.iter_mut() {
        *c = (f64::from(*c) * factor).round() as u8;
    }
}
