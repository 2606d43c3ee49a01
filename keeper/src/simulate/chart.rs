//! The SVG chart of `opg simulate`: cumulative net USD per node over the epochs, volume-only
//! (dashed) and provenance (solid) on the same axes (plotters, SVG backend).
use std::path::Path;

use plotters::prelude::*;

/// One line of the chart.
pub struct Series {
    /// Node id.
    pub node_id: String,
    /// `volume_only` or `provenance`.
    pub mode: &'static str,
    /// Cumulative net USD after each epoch.
    pub points: Vec<f64>,
}

const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(140, 86, 75),
];

/// Writes the chart to `path` (SVG). Errors: the file cannot be written or plotters fails.
pub fn write_svg(path: &Path, title: &str, series: &[Series]) -> anyhow::Result<()> {
    let epochs = series
        .iter()
        .map(|s| s.points.len())
        .max()
        .unwrap_or(0)
        .max(1);
    let (mut lo, mut hi) = series
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let pad = ((hi - lo) * 0.05).max(1.0);
    lo -= pad;
    hi += pad;
    let mut node_ids: Vec<&str> = Vec::new();
    for s in series {
        if !node_ids.contains(&s.node_id.as_str()) {
            node_ids.push(&s.node_id);
        }
    }
    let root = SVGBackend::new(path, (1000, 620)).into_drawing_area();
    root.fill(&WHITE)
        .map_err(|e| anyhow::anyhow!("chart: {e}"))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..epochs as f64, lo..hi)
        .map_err(|e| anyhow::anyhow!("chart: {e}"))?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("cumulative net (USD)")
        .draw()
        .map_err(|e| anyhow::anyhow!("chart: {e}"))?;
    for s in series {
        let i = node_ids.iter().position(|n| *n == s.node_id).unwrap_or(0);
        let color = PALETTE[i % PALETTE.len()];
        let pts: Vec<(f64, f64)> = std::iter::once((0.0, 0.0))
            .chain(
                s.points
                    .iter()
                    .enumerate()
                    .map(|(e, v)| ((e + 1) as f64, *v)),
            )
            .collect();
        let label = format!("{} ({})", s.node_id, s.mode.replace('_', "-"));
        if s.mode == "provenance" {
            chart
                .draw_series(LineSeries::new(pts, color.stroke_width(3)))
                .map_err(|e| anyhow::anyhow!("chart: {e}"))?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3))
                });
        } else {
            chart
                .draw_series(DashedLineSeries::new(pts, 6, 4, color.stroke_width(2)))
                .map_err(|e| anyhow::anyhow!("chart: {e}"))?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(1))
                });
        }
    }
    chart
        .draw_series(LineSeries::new(
            vec![(0.0, 0.0), (epochs as f64, 0.0)],
            BLACK.mix(0.4),
        ))
        .map_err(|e| anyhow::anyhow!("chart: {e}"))?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| anyhow::anyhow!("chart: {e}"))?;
    root.present().map_err(|e| anyhow::anyhow!("chart: {e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_an_svg_with_every_series() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.svg");
        let series = vec![
            Series {
                node_id: "proxy-a".into(),
                mode: "volume_only",
                points: vec![1.0, 2.5, 4.0],
            },
            Series {
                node_id: "proxy-a".into(),
                mode: "provenance",
                points: vec![0.5, 1.0, 1.5],
            },
            Series {
                node_id: "local-b".into(),
                mode: "provenance",
                points: vec![-1.0, -1.5, -1.8],
            },
        ];
        write_svg(&path, "test", &series).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("proxy-a (volume-only)"));
        assert!(svg.contains("local-b (provenance)"));
        assert!(svg.contains("<polyline") || svg.contains("<path"));
    }
}
