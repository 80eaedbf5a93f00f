//! PNG bar charts of histograms (and line plots, e.g. the training loss) with plotters' bitmap backend. Text is drawn with DejaVu Sans embedded in the
//! binary (the `dejavu` crate), so plots need no system fonts.

use std::path::Path;
use std::sync::Once;

use anyhow::{Context, anyhow};
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use crate::dataset::histogram::Histogram;

/// Size of every plot, pixels.
pub const PLOT_SIZE: (u32, u32) = (800, 480);

fn register_fonts() -> anyhow::Result<()> {
    static ONCE: Once = Once::new();
    let mut result = Ok(());
    ONCE.call_once(|| {
        result = register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
            .map_err(|_| anyhow!("the embedded DejaVu Sans font is not a valid font"));
    });
    result
}

/// Draws `histogram` (its in-range bins) as a bar chart into the PNG file `path`.
pub fn plot_histogram(path: &Path, title: &str, x_label: &str, histogram: &Histogram) -> anyhow::Result<()> {
    plot_bars(path, title, x_label, &histogram.edges, &histogram.counts)
}

/// Draws bars `counts[i]` over `[edges[i], edges[i+1])` into the PNG file `path` ([`PLOT_SIZE`]).
pub fn plot_bars(path: &Path, title: &str, x_label: &str, edges: &[f64], counts: &[u64]) -> anyhow::Result<()> {
    register_fonts()?;
    anyhow::ensure!(
        edges.len() == counts.len() + 1 && !counts.is_empty(),
        "{title}: {} edges for {} bins",
        edges.len(),
        counts.len()
    );
    let draw = || -> Result<(), Box<dyn std::error::Error>> {
        let root = BitMapBackend::new(path, PLOT_SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let top = counts.iter().copied().max().unwrap_or(0).max(1);
        let (lo, hi) = (edges[0], edges[edges.len() - 1]);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 24))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d(lo..hi, 0u64..top + top / 10 + 1)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc(x_label)
            .y_desc("count")
            .label_style(("sans-serif", 14))
            .draw()?;
        let color = RGBColor(52, 101, 164);
        chart.draw_series(counts.iter().enumerate().map(|(i, count)| {
            let gap = (edges[i + 1] - edges[i]) * 0.05;
            Rectangle::new([(edges[i] + gap, 0), (edges[i + 1] - gap, *count)], color.filled())
        }))?;
        root.present()?;
        Ok(())
    };
    draw().map_err(|e| anyhow!("{e}")).with_context(|| format!("drawing {}", path.display()))
}

/// Draws the line through `points` (x ascending) into the PNG file `path` ([`PLOT_SIZE`]), y from 0 (or the
/// smallest value when negative).
pub fn plot_line(path: &Path, title: &str, x_label: &str, y_label: &str, points: &[(f64, f64)]) -> anyhow::Result<()> {
    register_fonts()?;
    anyhow::ensure!(!points.is_empty(), "{title}: no points");
    let draw = || -> Result<(), Box<dyn std::error::Error>> {
        let root = BitMapBackend::new(path, PLOT_SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let (x0, x1) = (points[0].0, points[points.len() - 1].0.max(points[0].0 + 1.0));
        let finite = points.iter().map(|p| p.1).filter(|y| y.is_finite());
        let (lo, hi) = finite.fold((0.0_f64, f64::MIN), |(lo, hi), y| (lo.min(y), hi.max(y)));
        let hi = if hi > lo { hi * 1.05 } else { lo + 1.0 };
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 24))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d(x0..x1, lo..hi)?;
        chart.configure_mesh().x_desc(x_label).y_desc(y_label).label_style(("sans-serif", 14)).draw()?;
        chart.draw_series(LineSeries::new(points.iter().copied(), RGBColor(52, 101, 164).stroke_width(2)))?;
        root.present()?;
        Ok(())
    };
    draw().map_err(|e| anyhow!("{e}")).with_context(|| format!("drawing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_png_of_the_plot_size() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("h.png");
        let mut histogram = Histogram::linear(0.0, 10.0, 10);
        [1.0, 2.5, 2.7, 9.0].iter().for_each(|v| histogram.add(*v));
        plot_histogram(&path, "durations", "seconds", &histogram).expect("plot");
        let png = std::fs::read(&path).expect("read");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        let width = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
        let height = u32::from_be_bytes([png[20], png[21], png[22], png[23]]);
        assert_eq!((width, height), PLOT_SIZE);
        assert!(plot_bars(&path, "bad", "x", &[0.0], &[]).is_err());
        let line = dir.path().join("loss.png");
        plot_line(&line, "loss", "step", "loss", &[(1.0, 3.0), (2.0, 2.0), (3.0, 0.5)]).expect("line plot");
        assert_eq!(&std::fs::read(&line).expect("read")[..8], b"\x89PNG\r\n\x1a\n");
        assert!(plot_line(&line, "empty", "x", "y", &[]).is_err());
    }
}
