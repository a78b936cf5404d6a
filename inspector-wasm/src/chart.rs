//! Hand-written SVG line charts: several named series over shared axes, an
//! optional vertical marker, linear or logarithmic x axis. Pure string
//! building, so it is unit-tested natively and costs a few KB of wasm.

use std::fmt::Write as _;

/// Series colours, in order (colour-blind friendly Okabe–Ito palette).
const PALETTE: [&str; 8] =
    ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000"];

/// Margins around the plot area: left, right, top, bottom (pixels).
const MARGIN: (f64, f64, f64, f64) = (56.0, 16.0, 28.0, 44.0);

/// One named line.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// Points in data coordinates; non-finite points are skipped.
    pub points: Vec<(f64, f64)>,
}

/// A vertical line at `x` with a label (e.g. the current capacity).
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    /// Position in data coordinates.
    pub x: f64,
    /// Text next to the line.
    pub label: String,
}

/// How an axis maps data to pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// Linear.
    Linear,
    /// Base-10 logarithmic (non-positive values are skipped).
    Log,
}

/// A line chart.
#[derive(Clone, Debug, PartialEq)]
pub struct LineChart {
    /// Title above the plot.
    pub title: String,
    /// Label under the x axis.
    pub x_label: String,
    /// Label left of the y axis.
    pub y_label: String,
    /// Scale of the x axis.
    pub x_scale: Scale,
    /// Fixed y range; `None`: from the data (including 0).
    pub y_range: Option<(f64, f64)>,
    /// The lines.
    pub series: Vec<Series>,
    /// An optional vertical marker.
    pub marker: Option<Marker>,
    /// Where the legend goes.
    pub legend: Legend,
}

/// Corner of the plot holding the legend.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Legend {
    /// Top right (for falling or flat lines).
    #[default]
    TopRight,
    /// Bottom right (for rising lines).
    BottomRight,
}

/// Maps data coordinates into the plot rectangle.
struct Frame {
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
    log_x: bool,
    width: f64,
    height: f64,
}

impl Frame {
    fn tx(&self, x: f64) -> f64 {
        let (x, a, b) =
            if self.log_x { (x.log10(), self.x0.log10(), self.x1.log10()) } else { (x, self.x0, self.x1) };
        let t = if b > a { (x - a) / (b - a) } else { 0.5 };
        MARGIN.0 + t * (self.width - MARGIN.0 - MARGIN.1)
    }

    fn ty(&self, y: f64) -> f64 {
        let t = if self.y1 > self.y0 { (y - self.y0) / (self.y1 - self.y0) } else { 0.5 };
        self.height - MARGIN.3 - t * (self.height - MARGIN.2 - MARGIN.3)
    }
}

impl LineChart {
    /// Whether a point can be drawn on this chart's scales.
    fn usable(&self, (x, y): (f64, f64)) -> bool {
        x.is_finite() && y.is_finite() && (self.x_scale == Scale::Linear || x > 0.0)
    }

    /// The data bounds (x range, y range), widened so they are never empty.
    fn bounds(&self) -> ((f64, f64), (f64, f64)) {
        let pts = || self.series.iter().flat_map(|s| s.points.iter().copied()).filter(|&p| self.usable(p));
        let mut xs =
            pts().map(|p| p.0).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
        if let Some(m) = self.marker.as_ref().filter(|m| self.usable((m.x, 0.0))) {
            xs = (xs.0.min(m.x), xs.1.max(m.x));
        }
        if !xs.0.is_finite() {
            xs = if self.x_scale == Scale::Log { (1.0, 10.0) } else { (0.0, 1.0) };
        }
        if xs.0 == xs.1 {
            xs = if self.x_scale == Scale::Log {
                (xs.0 / 10.0, xs.1 * 10.0)
            } else {
                (xs.0 - 1.0, xs.1 + 1.0)
            };
        }
        let ys = self.y_range.unwrap_or_else(|| {
            let (lo, hi) =
                pts().map(|p| p.1).fold((0.0f64, f64::NEG_INFINITY), |(a, b), y| (a.min(y), b.max(y)));
            let hi = if hi.is_finite() && hi > lo { hi } else { lo + 1.0 };
            (lo, nice_ceil(hi))
        });
        (xs, ys)
    }

    /// Renders the chart as a standalone `<svg>` element of the given size
    /// (it scales with its `viewBox`).
    #[must_use]
    pub fn to_svg(&self, width: u32, height: u32) -> String {
        let ((x0, x1), (y0, y1)) = self.bounds();
        let f = Frame {
            x0,
            x1,
            y0,
            y1,
            log_x: self.x_scale == Scale::Log,
            width: f64::from(width),
            height: f64::from(height),
        };
        let mut s = String::with_capacity(4096);
        let _ = write!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{t}"><title>{t}</title>"#,
            t = escape(&self.title)
        );
        let _ = write!(s, r#"<text class="title" x="{}" y="18">{}</text>"#, MARGIN.0, escape(&self.title));
        self.axes(&mut s, &f);
        for (i, series) in self.series.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            let mut d = String::new();
            for &(x, y) in series.points.iter().filter(|&&p| self.usable(p)) {
                let cmd = if d.is_empty() { 'M' } else { 'L' };
                let _ = write!(d, "{cmd}{:.1},{:.1}", f.tx(x), f.ty(y.clamp(y0, y1)));
            }
            let _ = write!(
                s,
                r#"<path class="series" data-series="{n}" fill="none" stroke="{colour}" stroke-width="2" d="{d}"/>"#,
                n = escape(&series.name)
            );
            let lx = f.width - MARGIN.1 - 110.0;
            let ly = match self.legend {
                Legend::TopRight => MARGIN.2 + 14.0 * i as f64,
                Legend::BottomRight => f.height - MARGIN.3 - 14.0 * (self.series.len() - i) as f64 - 4.0,
            };
            let _ = write!(
                s,
                r#"<g class="legend"><rect x="{lx:.1}" y="{:.1}" width="10" height="3" fill="{colour}"/><text x="{:.1}" y="{:.1}">{}</text></g>"#,
                ly + 4.0,
                lx + 14.0,
                ly + 8.0,
                escape(&series.name)
            );
        }
        if let Some(m) = self.marker.as_ref().filter(|m| self.usable((m.x, 0.0))) {
            let x = f.tx(m.x);
            // The label goes on the side of the line with more room.
            let (tx, anchor) = if x > f.width / 2.0 { (x - 4.0, "end") } else { (x + 4.0, "start") };
            let _ = write!(
                s,
                r##"<g class="marker"><line x1="{x:.1}" x2="{x:.1}" y1="{:.1}" y2="{:.1}" stroke="#d00" stroke-dasharray="4 3"/><text x="{tx:.1}" y="{:.1}" fill="#d00" text-anchor="{anchor}">{}</text></g>"##,
                f.ty(y1),
                f.ty(y0),
                f.ty(y0) - 6.0,
                escape(&m.label)
            );
        }
        s.push_str("</svg>");
        s
    }

    fn axes(&self, s: &mut String, f: &Frame) {
        let (left, right, top, bottom) = (MARGIN.0, f.width - MARGIN.1, MARGIN.2, f.height - MARGIN.3);
        let _ = write!(
            s,
            r##"<g class="axes" stroke="#888" fill="none"><path d="M{left},{top}V{bottom}H{right}"/></g>"##
        );
        let _ = write!(s, r##"<g class="ticks" font-size="11" fill="#444">"##);
        let xticks = if f.log_x { log_ticks(f.x0, f.x1) } else { linear_ticks(f.x0, f.x1, 6) };
        for t in xticks {
            let x = f.tx(t);
            let _ = write!(
                s,
                r##"<line x1="{x:.1}" x2="{x:.1}" y1="{top}" y2="{bottom}" stroke="#eee"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
                bottom + 14.0,
                fmt_tick(t)
            );
        }
        for t in linear_ticks(f.y0, f.y1, 5) {
            let y = f.ty(t);
            let _ = write!(
                s,
                r##"<line x1="{left}" x2="{right}" y1="{y:.1}" y2="{y:.1}" stroke="#eee"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
                left - 4.0,
                y + 4.0,
                fmt_tick(t)
            );
        }
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text><text transform="translate(14,{:.1}) rotate(-90)" text-anchor="middle">{}</text></g>"#,
            (left + right) / 2.0,
            f.height - 6.0,
            escape(&self.x_label),
            (top + bottom) / 2.0,
            escape(&self.y_label)
        );
    }
}

/// The smallest 1, 2 or 5 × 10^k that is at least `v` (`v > 0`).
fn nice_ceil(v: f64) -> f64 {
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * p).find(|&c| c >= v * (1.0 - 1e-12)).unwrap_or(10.0 * p)
}

/// About `n` round ticks (steps of 1, 2 or 5 × 10^k) within `[a, b]`.
fn linear_ticks(a: f64, b: f64, n: usize) -> Vec<f64> {
    if b.partial_cmp(&a) != Some(std::cmp::Ordering::Greater) || n == 0 {
        return vec![a];
    }
    let raw = (b - a) / n as f64;
    let step = nice_ceil(raw);
    let first = (a / step).ceil() as i64;
    let last = (b / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

/// Powers of ten within `[a, b]` (`a > 0`).
fn log_ticks(a: f64, b: f64) -> Vec<f64> {
    let (lo, hi) = (a.log10().ceil() as i32, b.log10().floor() as i32);
    let ticks: Vec<f64> = (lo..=hi).map(|e| 10f64.powi(e)).collect();
    if ticks.is_empty() { vec![a, b] } else { ticks }
}

/// Short tick text: 0.25, 10, 2k, 1.5M.
fn fmt_tick(v: f64) -> String {
    let a = v.abs();
    let (n, suffix) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let text = format!("{n:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{}{suffix}", if text == "-0" { "0" } else { text })
}

/// Escapes text for SVG content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(series: Vec<Series>) -> LineChart {
        LineChart {
            title: "t".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            x_scale: Scale::Linear,
            y_range: Some((0.0, 1.0)),
            series,
            marker: None,
            legend: Legend::TopRight,
        }
    }

    fn path_points(svg: &str, series: &str) -> Vec<(f64, f64)> {
        let at = svg.find(&format!("data-series=\"{series}\"")).expect("series present");
        let d = &svg[at..];
        let d = &d[d.find(" d=\"").expect("d") + 4..];
        let d = &d[..d.find('"').expect("end")];
        d.split(['M', 'L'])
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (x, y) = p.split_once(',').expect("pair");
                (x.parse().expect("x"), y.parse().expect("y"))
            })
            .collect()
    }

    #[test]
    fn points_map_into_the_plot_area_with_y_up() {
        let c = chart(vec![Series { name: "lru".into(), points: vec![(0.0, 0.0), (5.0, 0.5), (10.0, 1.0)] }]);
        let svg = c.to_svg(400, 200);
        let pts = path_points(&svg, "lru");
        assert_eq!(pts.len(), 3);
        assert_eq!(pts[0], (MARGIN.0, 200.0 - MARGIN.3));
        assert_eq!(pts[2], (400.0 - MARGIN.1, MARGIN.2));
        assert!((pts[1].0 - (MARGIN.0 + 400.0 - MARGIN.1) / 2.0).abs() < 0.06);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }

    #[test]
    fn log_scale_skips_non_positive_x_and_non_finite_points() {
        let mut c = chart(vec![Series {
            name: "s".into(),
            points: vec![(0.0, 0.1), (10.0, 0.2), (f64::NAN, 0.3), (100.0, 0.4), (1000.0, f64::INFINITY)],
        }]);
        c.x_scale = Scale::Log;
        let pts = path_points(&c.to_svg(300, 200), "s");
        assert_eq!(pts.len(), 2);
        assert_eq!(pts[0].0, MARGIN.0);
        assert_eq!(pts[1].0, 300.0 - MARGIN.1);
    }

    #[test]
    fn text_is_escaped_and_the_marker_drawn() {
        let mut c = chart(vec![Series { name: "a<b>&\"c\"".into(), points: vec![(1.0, 0.5), (3.0, 0.7)] }]);
        c.marker = Some(Marker { x: 2.0, label: "L1 = 2".into() });
        let svg = c.to_svg(300, 200);
        assert!(svg.contains("a&lt;b&gt;&amp;&quot;c&quot;"));
        assert!(!svg.contains("a<b>"));
        assert!(svg.contains("class=\"marker\"") && svg.contains("L1 = 2"));
    }

    #[test]
    fn empty_and_degenerate_charts_render() {
        let svg = chart(vec![]).to_svg(300, 200);
        assert!(svg.contains("class=\"axes\""));
        let mut c = chart(vec![Series { name: "one".into(), points: vec![(5.0, 2.0)] }]);
        c.y_range = None;
        let svg = c.to_svg(300, 200);
        assert_eq!(path_points(&svg, "one").len(), 1);
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }

    #[test]
    fn ticks_are_round_and_in_range() {
        assert_eq!(linear_ticks(0.0, 1.0, 5), vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]);
        let t = linear_ticks(3.0, 97.0, 6);
        assert!(t.iter().all(|&v| (3.0..=97.0).contains(&v) && v % 20.0 == 0.0), "{t:?}");
        assert_eq!(log_ticks(3.0, 2000.0), vec![10.0, 100.0, 1000.0]);
        assert_eq!(nice_ceil(0.73), 1.0);
        assert_eq!(nice_ceil(130.0), 200.0);
        assert_eq!(fmt_tick(0.6000000000000001), "0.6");
        assert_eq!(fmt_tick(20000.0), "20k");
        assert_eq!(fmt_tick(1_500_000.0), "1.5M");
        assert_eq!(fmt_tick(0.0), "0");
    }
}
