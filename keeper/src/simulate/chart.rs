//! The SVG charts of `opg simulate` (plotters, SVG backend): cumulative net USD per node over the
//! epochs, volume-only (dashed) and provenance (solid) on the same axes; and the `--sweep`
//! heatmaps.
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

/// One heatmap: `values[y][x]` (`None`: no point there).
pub struct HeatPanel {
    /// Panel title.
    pub title: String,
    /// X axis name.
    pub x_label: String,
    /// Y axis name.
    pub y_label: String,
    /// X tick labels.
    pub xs: Vec<String>,
    /// Y tick labels.
    pub ys: Vec<String>,
    /// Row-major by y.
    pub values: Vec<Vec<Option<f64>>>,
}

/// Red for losses, green for gains, white at 0; saturated at `scale`.
fn diverging(v: f64, scale: f64) -> RGBColor {
    let t = (v.abs() / scale.max(1e-12)).min(1.0);
    let fade = |c: u8| (255.0 - (255.0 - c as f64) * (0.15 + 0.85 * t)) as u8;
    if v < 0.0 {
        RGBColor(fade(214), fade(39), fade(40))
    } else {
        RGBColor(fade(44), fade(160), fade(44))
    }
}

/// Writes heatmap `panels` to `path` (SVG), `columns` panels per row, each cell coloured by its
/// value (one colour scale per panel) and labelled with it. Errors: the file cannot be written or
/// plotters fails.
pub fn write_heatmap(
    path: &Path,
    title: &str,
    panels: &[HeatPanel],
    columns: usize,
) -> anyhow::Result<()> {
    let err = |e: &dyn std::fmt::Display| anyhow::anyhow!("heatmap: {e}");
    let columns = columns.max(1);
    let rows = panels.len().div_ceil(columns).max(1);
    let (w, h) = (420 * columns as u32, 60 + 300 * rows as u32);
    let root = SVGBackend::new(path, (w, h)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let root = root
        .titled(title, ("sans-serif", 22))
        .map_err(|e| err(&e))?;
    let areas = root.split_evenly((rows, columns));
    for (panel, area) in panels.iter().zip(areas.iter()) {
        let nx = panel.xs.len().max(1);
        let ny = panel.ys.len().max(1);
        let scale = panel
            .values
            .iter()
            .flatten()
            .flatten()
            .fold(0.0f64, |m, v| m.max(v.abs()));
        let mut chart = ChartBuilder::on(area)
            .caption(&panel.title, ("sans-serif", 13))
            .margin(8)
            .x_label_area_size(34)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..nx as f64, 0f64..ny as f64)
            .map_err(|e| err(&e))?;
        let xs = panel.xs.clone();
        let ys = panel.ys.clone();
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(nx * 2 + 1)
            .y_labels(ny * 2 + 1)
            .x_label_formatter(&|v| {
                let i = (*v - 0.5).round();
                if (v - 0.5 - i).abs() < 1e-6 && i >= 0.0 {
                    xs.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|v| {
                let i = (*v - 0.5).round();
                if (v - 0.5 - i).abs() < 1e-6 && i >= 0.0 {
                    ys.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .x_desc(panel.x_label.as_str())
            .y_desc(panel.y_label.as_str())
            .draw()
            .map_err(|e| err(&e))?;
        for (yi, row) in panel.values.iter().enumerate() {
            for (xi, v) in row.iter().enumerate() {
                let Some(v) = v else { continue };
                let (x0, y0) = (xi as f64, yi as f64);
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x0, y0), (x0 + 1.0, y0 + 1.0)],
                        diverging(*v, scale).filled(),
                    )))
                    .map_err(|e| err(&e))?;
                chart
                    .draw_series(std::iter::once(Text::new(
                        format!("{v:.2}"),
                        (x0 + 0.3, y0 + 0.55),
                        ("sans-serif", 13),
                    )))
                    .map_err(|e| err(&e))?;
            }
        }
    }
    root.present().map_err(|e| err(&e))?;
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

    #[test]
    fn heatmap_has_every_panel_and_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.svg");
        let panel = |t: &str| HeatPanel {
            title: t.into(),
            x_label: "emission".into(),
            y_label: "share".into(),
            xs: vec!["100".into(), "200".into()],
            ys: vec!["5%".into()],
            values: vec![vec![Some(-1.25), Some(3.5)]],
        };
        write_heatmap(&path, "sweep", &[panel("first"), panel("second")], 2).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg"));
        for s in ["first", "second", "-1.25", "3.50", "200", "5%"] {
            assert!(svg.contains(s), "{s} missing");
        }
    }
}
