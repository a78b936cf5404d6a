//! The page's three charts, drawn from a simulator [`Report`] and the
//! policies' miss-ratio curves with [`crate::chart`].

use serde::Serialize;
use strata_sim::Report;

use crate::chart::{Legend, LineChart, Marker, Scale, Series};
use crate::curves::PolicyCurve;

/// Size of every chart (it scales with the page through its viewBox).
const SIZE: (u32, u32) = (560, 300);

/// The charts as SVG markup.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChartSvgs {
    /// L1 (and L2) hit ratio per time window.
    pub hit_ratio: String,
    /// Hit ratio against L1 capacity, one line per policy, current capacity marked.
    pub mrc: String,
    /// Read latency CDF.
    pub latency: String,
}

/// Hit ratio per window of virtual time, per tier.
#[must_use]
pub fn hit_ratio_chart(report: &Report) -> LineChart {
    let t = |ms: u64| ms as f64 / 1000.0;
    // Windows without reads (the tail of a run: loads finishing) have no ratio.
    let windows = || report.series.iter().filter(|w| w.reads > 0);
    let mut series =
        vec![Series { name: "L1".into(), points: windows().map(|w| (t(w.t_ms), w.l1_hit_ratio)).collect() }];
    if report.l2.is_some() {
        series.push(Series {
            name: "L2".into(),
            points: windows().filter_map(|w| Some((t(w.t_ms), w.l2_hit_ratio?))).collect(),
        });
    }
    LineChart {
        title: "Hit ratio over time".into(),
        x_label: "virtual time (s)".into(),
        y_label: "hit ratio".into(),
        x_scale: Scale::Linear,
        y_range: Some((0.0, 1.0)),
        series,
        marker: None,
        legend: Legend::TopRight,
    }
}

/// Hit ratio against L1 capacity for every policy, `capacity` marked.
#[must_use]
pub fn mrc_chart(curves: &[PolicyCurve], capacity: u64) -> LineChart {
    let rate = curves.iter().map(|c| c.sample_rate).fold(1.0, f64::min);
    let title = if rate < 1.0 {
        format!("Hit ratio vs L1 capacity (no TTL, L1 only; keys sampled down to {:.0} %)", rate * 100.0)
    } else {
        "Hit ratio vs L1 capacity (no TTL, L1 only)".to_owned()
    };
    LineChart {
        title,
        x_label: "L1 capacity (entries, log scale)".into(),
        y_label: "hit ratio".into(),
        x_scale: Scale::Log,
        y_range: Some((0.0, 1.0)),
        series: curves
            .iter()
            .map(|c| Series {
                name: c.policy.into(),
                points: c.points.iter().map(|p| (p.capacity as f64, p.hit_ratio)).collect(),
            })
            .collect(),
        marker: Some(Marker { x: capacity as f64, label: format!("L1 = {capacity}") }),
        legend: Legend::BottomRight,
    }
}

/// The read latency CDF (quantile against latency, log scale).
#[must_use]
pub fn latency_chart(report: &Report) -> LineChart {
    LineChart {
        title: "Read latency CDF".into(),
        x_label: "latency (µs, log scale)".into(),
        y_label: "fraction of reads ≤ x".into(),
        x_scale: Scale::Log,
        y_range: Some((0.0, 1.0)),
        series: vec![Series {
            name: "reads".into(),
            points: report.read_cdf.iter().map(|p| (p.us, p.q)).collect(),
        }],
        marker: None,
        legend: Legend::BottomRight,
    }
}

/// All three charts as SVG.
#[must_use]
pub fn render(report: &Report, curves: &[PolicyCurve], capacity: u64) -> ChartSvgs {
    ChartSvgs {
        hit_ratio: hit_ratio_chart(report).to_svg(SIZE.0, SIZE.1),
        mrc: mrc_chart(curves, capacity).to_svg(SIZE.0, SIZE.1),
        latency: latency_chart(report).to_svg(SIZE.0, SIZE.1),
    }
}
