//! SVG charts of a [`Figures`] (plotters, SVG backend, rendered to strings so the keeper can
//! inline them in its page and `opg report` can write them as files).
//!
//! Readable without colour: every series differs by line style (solid, dashed, dotted, long
//! dashes) and marker shape (circle, triangle, cross, square) as well as by colour, and the
//! legend shows both.
use plotters::prelude::*;

use super::figures::token_unit;
use super::Figures;

/// Width and height of every chart (px; the page scales them to its width).
pub const SIZE: (u32, u32) = (720, 360);

/// One named chart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chart {
    /// File stem (`calls`, `value`, ...).
    pub name: &'static str,
    /// Title (also the page's figure caption and the SVG's accessible name).
    pub title: String,
    /// The SVG document.
    pub svg: String,
}

/// A line of a line chart.
struct Line {
    label: String,
    /// One value per epoch of the x axis.
    values: Vec<f64>,
}

const COLORS: [RGBColor; 4] = [
    RGBColor(0, 0, 0),
    RGBColor(0, 90, 181),
    RGBColor(220, 50, 32),
    RGBColor(0, 128, 96),
];

fn err(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("chart: {e}")
}

/// A line chart over `epochs`, series styled by index (0 solid + circle, 1 dashed + triangle,
/// 2 dotted + cross, 3 long dashes + square).
fn line_chart(title: &str, y_desc: &str, epochs: &[u64], lines: &[Line]) -> anyhow::Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let (x0, x1) = match (epochs.first(), epochs.last()) {
            (Some(a), Some(b)) => (*a as f64 - 0.5, *b as f64 + 0.5),
            _ => (-0.5, 0.5),
        };
        let hi = lines
            .iter()
            .flat_map(|l| l.values.iter().copied())
            .fold(0.0f64, f64::max);
        let hi = if hi <= 0.0 { 1.0 } else { hi * 1.15 };
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(72)
            .build_cartesian_2d(x0..x1, 0f64..hi)
            .map_err(err)?;
        let n_labels = epochs.len().clamp(1, 12);
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc(y_desc)
            .x_labels(n_labels + 1)
            .x_label_formatter(&|x| {
                if (x.fract()).abs() < 1e-9 && *x >= 0.0 {
                    format!("{x:.0}")
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|y| short_number(*y))
            .light_line_style(WHITE)
            .draw()
            .map_err(err)?;
        for (i, l) in lines.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            let pts: Vec<(f64, f64)> = epochs
                .iter()
                .zip(&l.values)
                .map(|(e, v)| (*e as f64, *v))
                .collect();
            let style = color.stroke_width(2);
            let series = match i % 4 {
                0 => chart.draw_series(LineSeries::new(pts.clone(), style)),
                1 => chart.draw_series(DashedLineSeries::new(pts.clone(), 8, 5, style)),
                2 => chart.draw_series(DashedLineSeries::new(pts.clone(), 2, 4, style)),
                _ => chart.draw_series(DashedLineSeries::new(pts.clone(), 16, 4, style)),
            }
            .map_err(err)?;
            series.label(l.label.clone()).legend(move |(x, y)| {
                EmptyElement::at((x, y))
                    + PathElement::new(vec![(0, 0), (20, 0)], color.stroke_width(2))
                    + marker(i, (10, 0), color)
            });
            chart
                .draw_series(
                    pts.iter()
                        .map(|p| EmptyElement::at(*p) + marker(i, (0, 0), color)),
                )
                .map_err(err)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// The marker of series `i`: circle, triangle, cross or square.
fn marker<DB: DrawingBackend>(
    i: usize,
    at: (i32, i32),
    color: RGBColor,
) -> DynElement<'static, DB, (i32, i32)> {
    match i % 4 {
        0 => Circle::new(at, 4, color.filled()).into_dyn(),
        1 => TriangleMarker::new(at, 6, color.filled()).into_dyn(),
        2 => Cross::new(at, 5, color.stroke_width(2)).into_dyn(),
        _ => {
            Rectangle::new([(at.0 - 4, at.1 - 4), (at.0 + 4, at.1 + 4)], color.filled()).into_dyn()
        }
    }
}

/// Axis numbers: `1500000` -> `1.5M`, `2500` -> `2.5k`, `0.25` -> `0.25`.
pub fn short_number(v: f64) -> String {
    let a = v.abs();
    let (x, suffix) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}{suffix}")
}

fn dec(d: cosmwasm_std::Decimal) -> f64 {
    d.to_string().parse().unwrap_or(0.0)
}

fn micro_f(v: cosmwasm_std::Uint128) -> f64 {
    v.u128() as f64 / 1e6
}

/// Horizontal bars: one per `(label, value)`, the value written at the bar's end.
fn bar_chart(title: &str, x_desc: &str, bars: &[(String, f64, String)]) -> anyhow::Result<String> {
    let mut svg = String::new();
    {
        let h = SIZE.1.max(90 + 34 * bars.len() as u32);
        let root = SVGBackend::with_string(&mut svg, (SIZE.0, h)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let hi = bars.iter().map(|b| b.1).fold(0.0f64, f64::max);
        let hi = if hi <= 0.0 { 1.0 } else { hi * 1.7 };
        let n = bars.len().max(1) as f64;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(8)
            .build_cartesian_2d(0f64..hi, 0f64..n)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .disable_y_mesh()
            .y_labels(0)
            .x_label_formatter(&|x| short_number(*x))
            .light_line_style(WHITE)
            .draw()
            .map_err(err)?;
        for (i, (label, v, shown)) in bars.iter().enumerate() {
            let y = n - i as f64 - 1.0;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(0.0, y + 0.2), (*v, y + 0.8)],
                    COLORS[1].mix(0.85).filled(),
                )))
                .map_err(err)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("{label}: {shown}"),
                    (*v + hi * 0.01, y + 0.62),
                    ("sans-serif", 14).into_font().color(&BLACK),
                )))
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Every chart of `fig`: calls and value (paid, counted) by class, community share against its
/// target, multipliers, usage and stipend awarded and left unpaid, and rewards per node. Empty when
/// `fig` has no epoch.
pub fn charts(fig: &Figures) -> anyhow::Result<Vec<Chart>> {
    if fig.epochs.is_empty() {
        return Ok(Vec::new());
    }
    let epochs: Vec<u64> = fig.epochs.iter().map(|f| f.report.epoch).collect();
    let col = |g: &dyn Fn(&super::EpochFigures) -> f64| -> Vec<f64> {
        fig.epochs.iter().map(g).collect()
    };
    let unit = token_unit(&fig.pool.denom);
    let tok = |v: cosmwasm_std::Uint128| {
        if fig.pool.denom.starts_with('u') {
            micro_f(v)
        } else {
            v.u128() as f64
        }
    };
    let mut out = Vec::new();
    let mut push =
        |name: &'static str, title: String, svg: String| out.push(Chart { name, title, svg });

    let t = "Calls per epoch by provenance class".to_string();
    let svg = line_chart(
        &t,
        "calls",
        &epochs,
        &[
            Line {
                label: "commercial".into(),
                values: col(&|f| f.report.commercial.calls as f64),
            },
            Line {
                label: "community".into(),
                values: col(&|f| f.report.community.calls as f64),
            },
        ],
    )?;
    push("calls", t, svg);

    let t = "Paid and counted value per epoch by provenance class (USD)".to_string();
    let svg = line_chart(
        &t,
        "value (USD)",
        &epochs,
        &[
            Line {
                label: "commercial paid".into(),
                values: col(&|f| micro_f(f.report.commercial.raw_value)),
            },
            Line {
                label: "community paid".into(),
                values: col(&|f| micro_f(f.report.community.raw_value)),
            },
            Line {
                label: "commercial counted".into(),
                values: col(&|f| micro_f(f.report.commercial.counted_value)),
            },
            Line {
                label: "community counted".into(),
                values: col(&|f| micro_f(f.report.community.counted_value)),
            },
        ],
    )?;
    push("value", t, svg);

    let t = "Community share of counted value against its target (%)".to_string();
    let svg = line_chart(
        &t,
        "share (%)",
        &epochs,
        &[
            Line {
                label: "community share".into(),
                values: col(&|f| dec(f.report.community_share) * 100.0),
            },
            Line {
                label: "target".into(),
                values: col(&|f| dec(f.target_share) * 100.0),
            },
        ],
    )?;
    push("share", t, svg);

    let t = "Reward multipliers per epoch".to_string();
    let svg = line_chart(
        &t,
        "multiplier",
        &epochs,
        &[
            Line {
                label: "m_commercial".into(),
                values: col(&|f| dec(f.report.m_commercial)),
            },
            Line {
                label: "m_community".into(),
                values: col(&|f| dec(f.report.m_community)),
            },
        ],
    )?;
    push("multiplier", t, svg);

    let t = format!("Usage and stipend awarded and left unpaid per epoch ({unit})");
    let svg = line_chart(
        &t,
        &unit,
        &epochs,
        &[
            Line {
                label: "usage awarded".into(),
                values: col(&|f| tok(f.split.usage_awarded)),
            },
            Line {
                label: "stipend awarded".into(),
                values: col(&|f| tok(f.split.stipend_awarded)),
            },
            Line {
                label: "usage unpaid".into(),
                values: col(&|f| tok(f.report.usage_unpaid)),
            },
            Line {
                label: "stipend unpaid".into(),
                values: col(&|f| tok(f.report.stipend_unpaid)),
            },
        ],
    )?;
    push("budget", t, svg);

    let per_node = fig.rewards_per_node();
    let (lo, hi) = (epochs[0], epochs[epochs.len() - 1]);
    let t = format!("Rewards per node, finalized epochs {lo}–{hi} ({unit})");
    let bars: Vec<(String, f64, String)> = per_node
        .iter()
        .map(|(id, v)| {
            (
                id.clone(),
                tok(*v),
                super::figures::tokens(*v, &fig.pool.denom),
            )
        })
        .collect();
    let svg = bar_chart(&t, &unit, &bars)?;
    push("nodes", t, svg);
    Ok(out)
}
