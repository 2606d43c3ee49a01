//! The transparency page: one self-contained HTML document (inline CSS and SVG, no JavaScript,
//! no external resource), plain and accessible: real tables with headers and captions, every
//! chart in a `<figure>` with a caption and an accessible name, and its figures also in a table;
//! statuses and classes written as words (readable without colour); tables scroll sideways on
//! a phone; every number has its unit.
use std::fmt::Write as _;

use opg_core::msg::pool::RewardParams;

use super::chart::Chart;
use super::figures::{multiplier, percent, thousands, tokens, usd};
use super::{EpochFigures, Figures};

/// Where epoch links point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Links {
    /// The keeper's routes: `/` and `/epochs/{e}`; the page details one epoch.
    Server,
    /// A static file (`opg report --out`, `opg simulate --out`): in-page anchors `#epoch-{e}`;
    /// the page details every epoch.
    Anchors,
}

/// What to render.
pub struct Page<'a> {
    /// The figures.
    pub figures: &'a Figures,
    /// Their charts ([`super::chart::charts`]).
    pub charts: &'a [Chart],
    /// The epoch detailed (with [`Links::Server`]); `None`: the latest finalized one, else the
    /// latest one.
    pub detail: Option<u64>,
    /// Link style.
    pub links: Links,
    /// `<meta http-equiv="refresh">` period in seconds (the keeper's page), or none.
    pub refresh_secs: Option<u32>,
    /// A line under the title (e.g. which simulation).
    pub subtitle: Option<String>,
}

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const STYLE: &str = "\
body{font-family:system-ui,sans-serif;line-height:1.45;margin:0 auto;max-width:60rem;\
padding:0 .75rem 2rem;color:#111;background:#fff}\
h1{font-size:1.5rem;margin:1rem 0 .25rem}h2{font-size:1.2rem;margin-top:2rem;\
border-bottom:2px solid #111}h3{font-size:1.05rem}\
.scroll{overflow-x:auto;max-width:100%}\
table{border-collapse:collapse;margin:.5rem 0;font-variant-numeric:tabular-nums}\
caption{text-align:left;font-weight:bold;padding:.25rem 0}\
th,td{border:1px solid #555;padding:.25rem .5rem;text-align:right;white-space:nowrap}\
th[scope=row],td.text{text-align:left}thead th{background:#eee}\
figure{margin:1rem 0}figure svg{max-width:100%;height:auto;border:1px solid #ccc}\
figcaption{font-size:.95rem}nav a{margin-right:1rem}\
code{overflow-wrap:anywhere;word-break:break-all}p,h1,h2,figcaption{overflow-wrap:anywhere}\
a{color:#0645ad}a:focus{outline:3px solid #111}.note{font-size:.9rem;color:#333}\
@media (prefers-color-scheme:dark){body{color:#eee;background:#111}thead th{background:#333}\
th,td{border-color:#aaa}a{color:#9cf}a:focus{outline-color:#eee}.note{color:#ccc}\
h2{border-color:#eee}}";

fn epoch_href(links: Links, e: u64) -> String {
    match links {
        Links::Server => format!("/epochs/{e}"),
        Links::Anchors => format!("#epoch-{e}"),
    }
}

/// The whole page.
pub fn render(p: &Page<'_>) -> String {
    let f = p.figures;
    let denom = &f.pool.denom;
    let mut s = String::new();
    let title = match (p.links, p.detail) {
        (Links::Server, Some(e)) => format!("opg: epoch {e}, the split by provenance"),
        _ => "opg: the split by provenance, epoch by epoch".to_string(),
    };
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <link rel=\"icon\" href=\"data:,\">\n"
    );
    if let Some(r) = p.refresh_secs {
        let _ = writeln!(s, "<meta http-equiv=\"refresh\" content=\"{r}\">");
    }
    let _ = write!(
        s,
        "<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<header>\n<h1>{}</h1>\n",
        esc(&title),
        esc(&title)
    );
    if let Some(sub) = &p.subtitle {
        let _ = writeln!(s, "<p>{}</p>", esc(sub));
    }
    let _ = writeln!(
        s,
        "<p class=\"note\">Chain <code>{}</code>, reward pool <code>{}</code>, block {} \
         (time {} unix s). Epochs are {} s long with a {} s grace window; the next epoch to \
         finalize is {}. Amounts in {} (1 {} = 1,000,000 {}), values in US dollars.{}</p>",
        esc(&f.chain_id),
        esc(&f.deployment.pool),
        thousands(f.status.height.into()),
        f.status.time,
        f.pool.clock.epoch_length,
        f.pool.clock.grace,
        f.pool.next_to_finalize,
        esc(&super::figures::token_unit(denom)),
        esc(&super::figures::token_unit(denom)),
        esc(denom),
        p.refresh_secs
            .map(|r| format!(" This page reloads itself every {r} s."))
            .unwrap_or_default()
    );
    if p.links == Links::Server {
        let _ = writeln!(
            s,
            "<nav aria-label=\"epochs\"><a href=\"/\">Latest epochs</a>{}</nav>",
            p.detail
                .map(|e| {
                    let mut n = String::new();
                    if e > 0 {
                        let _ = write!(
                            n,
                            "<a href=\"/epochs/{}\" rel=\"prev\">Epoch {}</a>",
                            e - 1,
                            e - 1
                        );
                    }
                    if f.current_epoch.is_some_and(|c| e < c) {
                        let _ = write!(
                            n,
                            "<a href=\"/epochs/{}\" rel=\"next\">Epoch {}</a>",
                            e + 1,
                            e + 1
                        );
                    }
                    n
                })
                .unwrap_or_default()
        );
    }
    s.push_str("</header>\n<main>\n");

    if f.epochs.is_empty() {
        s.push_str("<p>No epoch has started yet.</p>\n");
    } else {
        match p.links {
            Links::Server => {
                let d = p
                    .detail
                    .and_then(|e| f.epoch(e))
                    .or_else(|| f.latest_finalized())
                    .or_else(|| f.epochs.last());
                if let Some(d) = d {
                    epoch_detail(&mut s, f, d, true);
                }
            }
            Links::Anchors => {
                if let Some(d) = f.latest_finalized().or_else(|| f.epochs.last()) {
                    epoch_detail(&mut s, f, d, true);
                }
            }
        }
        epochs_table(&mut s, f, p.links);
        if !p.charts.is_empty() {
            s.push_str("<section aria-labelledby=\"charts\">\n<h2 id=\"charts\">Charts</h2>\n");
            s.push_str(
                "<p class=\"note\">The same figures as the tables. Series differ by line style and \
                 marker (solid with circles, dashed with triangles, dotted with crosses, long dashes \
                 with squares).</p>\n",
            );
            for c in p.charts {
                let id = format!("chart-{}", c.name);
                let svg = c.svg.replacen(
                    "<svg ",
                    &format!("<svg role=\"img\" aria-labelledby=\"{id}\" "),
                    1,
                );
                let _ = writeln!(
                    s,
                    "<figure>\n{svg}\n<figcaption id=\"{id}\">{}</figcaption>\n</figure>",
                    esc(&c.title)
                );
            }
            s.push_str("</section>\n");
        }
        if p.links == Links::Anchors {
            s.push_str("<section aria-labelledby=\"all-epochs\">\n<h2 id=\"all-epochs\">Every epoch</h2>\n");
            for d in f.epochs.iter().rev() {
                epoch_detail(&mut s, f, d, false);
            }
            s.push_str("</section>\n");
        }
    }
    params_section(&mut s, f);
    let _ = writeln!(
        s,
        "</main>\n<footer><p class=\"note\">Read-only: every figure is public chain state, read \
         from the reward pool's <code>EpochReport</code> and <code>NodeRewards</code> queries and \
         the registry's <code>Nodes</code> query. &ldquo;Left in pool&rdquo; is the budget minus \
         the usage rewards and stipend awarded: what the per-call cap <code>c_call</code>, the \
         stipend caps, empty classes and rounding leave in the pool. Each epoch's target share is \
         that of the params in force for it (<code>EpochParams</code>).</p></footer>\n</body>\n</html>"
    );
    s
}

fn td(s: &mut String, field: &str, raw: impl std::fmt::Display, shown: &str) {
    let _ = write!(
        s,
        "<td data-field=\"{}\" data-value=\"{}\">{}</td>",
        esc(field),
        esc(&raw.to_string()),
        esc(shown)
    );
}

/// The split of one epoch and its nodes. `main` marks the page's headline epoch (its split
/// table carries `id="split"`).
fn epoch_detail(s: &mut String, f: &Figures, d: &EpochFigures, main: bool) {
    let denom = &f.pool.denom;
    let r = &d.report;
    let e = r.epoch;
    let id = if main {
        "split".to_string()
    } else {
        format!("epoch-{e}")
    };
    let _ = writeln!(
        s,
        "<section aria-labelledby=\"{id}-h\" data-epoch=\"{e}\">\n<h2 id=\"{id}-h\">Epoch {e}: \
         {}</h2>",
        match (r.finalized, r.expired) {
            (true, false) => "finalized",
            (true, true) => "finalized, claim window over",
            (false, _) => "open (figures so far; budget and rewards are fixed at finalization)",
        }
    );
    let _ = writeln!(
        s,
        "<p>Community models served <strong>{}</strong> of the calls and <strong>{}</strong> of \
         the counted value (target {}); community usage counted {} against {} for commercial \
         usage. Budget {}: {} usage rewards, {} hardware stipend, {} left in the pool; {} \
         claimed so far.</p>",
        percent(d.split.community_calls_share),
        percent(r.community_share),
        percent(d.target_share),
        multiplier(r.m_community),
        multiplier(r.m_commercial),
        tokens(r.budget, denom),
        tokens(d.split.usage_awarded, denom),
        tokens(d.split.stipend_awarded, denom),
        tokens(d.split.left_in_pool, denom),
        tokens(r.paid, denom),
    );
    let _ = write!(
        s,
        "<div class=\"scroll\"><table id=\"{id}\" data-epoch=\"{e}\">\n<caption>Epoch {e}: the \
         split by provenance class</caption>\n<thead><tr><th scope=\"col\">class</th>\
         <th scope=\"col\">nodes with usage</th><th scope=\"col\">calls</th>\
         <th scope=\"col\">paid value</th><th scope=\"col\">counted value</th>\
         <th scope=\"col\">multiplier</th><th scope=\"col\">usage rewards</th>\
         <th scope=\"col\">hardware stipend</th></tr></thead>\n<tbody>\n"
    );
    for (name, c, m) in [
        ("commercial", &r.commercial, r.m_commercial),
        ("community", &r.community, r.m_community),
    ] {
        let _ = write!(s, "<tr><th scope=\"row\">{name}</th>");
        td(
            s,
            &format!("{name}.nodes"),
            c.nodes,
            &thousands(c.nodes.into()),
        );
        td(
            s,
            &format!("{name}.calls"),
            c.calls,
            &thousands(c.calls.into()),
        );
        td(
            s,
            &format!("{name}.raw_value"),
            c.raw_value,
            &usd(c.raw_value),
        );
        td(
            s,
            &format!("{name}.counted_value"),
            c.counted_value,
            &usd(c.counted_value),
        );
        td(s, &format!("m_{name}"), m, &multiplier(m));
        td(
            s,
            &format!("{name}.usage_rewards"),
            c.usage_rewards,
            &tokens(c.usage_rewards, denom),
        );
        td(
            s,
            &format!("{name}.stipend"),
            c.stipend,
            &tokens(c.stipend, denom),
        );
        s.push_str("</tr>\n");
    }
    s.push_str("<tr><th scope=\"row\">both</th>");
    td(
        s,
        "nodes",
        r.commercial.nodes + r.community.nodes,
        &thousands((r.commercial.nodes + r.community.nodes).into()),
    );
    td(s, "calls", d.split.calls, &thousands(d.split.calls.into()));
    td(s, "raw_value", d.split.raw_value, &usd(d.split.raw_value));
    let eff = r
        .commercial
        .counted_value
        .saturating_add(r.community.counted_value);
    td(s, "counted_value", eff, &usd(eff));
    s.push_str("<td>–</td>");
    td(
        s,
        "usage_awarded",
        d.split.usage_awarded,
        &tokens(d.split.usage_awarded, denom),
    );
    td(
        s,
        "stipend_awarded",
        d.split.stipend_awarded,
        &tokens(d.split.stipend_awarded, denom),
    );
    s.push_str("</tr>\n</tbody>\n</table></div>\n");

    // budget
    let _ = write!(
        s,
        "<div class=\"scroll\"><table data-epoch=\"{e}\">\n<caption>Epoch {e}: budget and \
         payout</caption>\n<tbody>\n"
    );
    for (label, field, v) in [
        ("budget B", "budget", r.budget),
        ("usage part (1 − alpha) B", "usage_budget", r.usage_budget),
        (
            "usage rewards awarded",
            "usage_awarded",
            d.split.usage_awarded,
        ),
        ("usage part left unpaid", "usage_unpaid", r.usage_unpaid),
        ("stipend part alpha B", "stipend_budget", r.stipend_budget),
        (
            "hardware stipend awarded",
            "stipend_awarded",
            d.split.stipend_awarded,
        ),
        (
            "stipend part left unpaid",
            "stipend_unpaid",
            r.stipend_unpaid,
        ),
        (
            "left in the pool (both parts and rounding)",
            "left_in_pool",
            d.split.left_in_pool,
        ),
        ("usage rewards claimed", "usage_paid", d.split.usage_paid),
        ("stipend claimed", "stipend_paid", d.split.stipend_paid),
        ("claimed so far", "paid", r.paid),
        ("awarded, not claimed yet", "unclaimed", d.split.unclaimed),
        (
            "never claimed, back to the pool (claim window over)",
            "expired_unclaimed",
            d.split.expired_unclaimed,
        ),
    ] {
        let _ = write!(s, "<tr><th scope=\"row\">{label}</th>");
        td(s, field, v, &tokens(v, denom));
        s.push_str("</tr>\n");
    }
    let _ = write!(s, "<tr><th scope=\"row\">usage rate rho</th>");
    td(s, "rate", r.rate, &super::figures::rate(r.rate, denom));
    let _ = write!(
        s,
        "</tr>\n<tr><th scope=\"row\">most usage reward per call c_call</th>"
    );
    match r.c_call {
        Some(c) => td(s, "c_call", c, &tokens(c, denom)),
        None => s.push_str("<td data-field=\"c_call\" data-value=\"\">no cap</td>"),
    }
    let _ = write!(
        s,
        "</tr>\n<tr><th scope=\"row\">value counted per call at most v_cap</th>"
    );
    td(s, "v_cap", r.v_cap, &usd(r.v_cap));
    s.push_str("</tr>\n");
    let _ = write!(s, "<tr><th scope=\"row\">community share of calls</th>");
    td(
        s,
        "community_calls_share",
        d.split.community_calls_share,
        &percent(d.split.community_calls_share),
    );
    let _ = write!(
        s,
        "</tr>\n<tr><th scope=\"row\">community share of counted value</th>"
    );
    td(
        s,
        "community_share",
        r.community_share,
        &percent(r.community_share),
    );
    let _ = write!(s, "</tr>\n<tr><th scope=\"row\">live local nodes</th>");
    td(
        s,
        "live_local_nodes",
        r.live_local_nodes,
        &thousands(r.live_local_nodes.into()),
    );
    s.push_str("</tr>\n</tbody>\n</table></div>\n");

    // nodes
    let rows: Vec<_> = f.rows_of(e).collect();
    if rows.is_empty() {
        s.push_str("<p>No node had calls or liveness in this epoch.</p>\n");
    } else {
        let _ = write!(
            s,
            "<div class=\"scroll\"><table class=\"nodes\" data-epoch=\"{e}\">\n<caption>Epoch {e}: \
             rewards per node</caption>\n<thead><tr><th scope=\"col\">node</th>\
             <th scope=\"col\">kind</th><th scope=\"col\">class</th><th scope=\"col\">calls</th>\
             <th scope=\"col\">paid value</th><th scope=\"col\">counted value</th>\
             <th scope=\"col\">live (hardware)</th><th scope=\"col\">usage reward</th>\
             <th scope=\"col\">stipend</th><th scope=\"col\">reward</th>\
             <th scope=\"col\">claimed</th></tr></thead>\n<tbody>\n"
        );
        for row in rows {
            let n = &row.reward;
            let _ = write!(
                s,
                "<tr data-node=\"{}\"><th scope=\"row\">{}</th><td class=\"text\">{}</td>\
                 <td class=\"text\">{}</td>",
                esc(&row.node_id),
                esc(&row.node_id),
                esc(&row.kind),
                n.provenance.as_str()
            );
            td(s, "calls", n.calls, &thousands(n.calls.into()));
            td(s, "raw_value", n.raw_value, &usd(n.raw_value));
            td(s, "counted_value", n.counted_value, &usd(n.counted_value));
            let live = match (&n.live, &n.hardware_class) {
                (true, Some(h)) => format!("yes ({h})"),
                (true, None) => "yes".into(),
                (false, _) => "no".into(),
            };
            let _ = write!(s, "<td class=\"text\">{}</td>", esc(&live));
            for (field, v) in [
                ("usage_reward", n.usage_reward),
                ("stipend_reward", n.stipend_reward),
                ("reward", n.reward),
            ] {
                match v {
                    Some(v) => td(s, field, v, &tokens(v, denom)),
                    None => {
                        let _ = write!(s, "<td data-field=\"{field}\">not final</td>");
                    }
                }
            }
            let _ = writeln!(
                s,
                "<td class=\"text\">{}</td></tr>",
                super::figures::claimed_word(n.claimed, n.expired)
            );
        }
        s.push_str("</tbody>\n</table></div>\n");
    }
    s.push_str("</section>\n");
}

fn epochs_table(s: &mut String, f: &Figures, links: Links) {
    let denom = &f.pool.denom;
    let first = f.epochs.first().map(|e| e.report.epoch).unwrap_or(0);
    let last = f.epochs.last().map(|e| e.report.epoch).unwrap_or(0);
    let _ = write!(
        s,
        "<section aria-labelledby=\"epochs\">\n<h2 id=\"epochs\">Epochs {first}–{last}, latest \
         first</h2>\n<div class=\"scroll\"><table id=\"epoch-list\">\n<caption>Calls, value \
         and rewards per epoch</caption>\n<thead><tr><th scope=\"col\">epoch</th>\
         <th scope=\"col\">status</th><th scope=\"col\">commercial calls</th>\
         <th scope=\"col\">community calls</th><th scope=\"col\">community share of counted \
         value</th><th scope=\"col\">target share</th><th scope=\"col\">community \
         multiplier</th><th scope=\"col\">budget</th><th scope=\"col\">usage rewards</th>\
         <th scope=\"col\">hardware stipend</th><th scope=\"col\">left in pool</th></tr></thead>\n\
         <tbody>\n"
    );
    for d in f.epochs.iter().rev() {
        let r = &d.report;
        let _ = write!(
            s,
            "<tr data-epoch=\"{e}\"><th scope=\"row\"><a href=\"{}\">Epoch {e}</a></th>\
             <td class=\"text\">{}</td>",
            epoch_href(links, r.epoch),
            super::figures::status(d),
            e = r.epoch
        );
        td(
            s,
            "commercial.calls",
            r.commercial.calls,
            &thousands(r.commercial.calls.into()),
        );
        td(
            s,
            "community.calls",
            r.community.calls,
            &thousands(r.community.calls.into()),
        );
        td(
            s,
            "community_share",
            r.community_share,
            &percent(r.community_share),
        );
        td(s, "target_share", d.target_share, &percent(d.target_share));
        td(s, "m_community", r.m_community, &multiplier(r.m_community));
        td(s, "budget", r.budget, &tokens(r.budget, denom));
        td(
            s,
            "usage_awarded",
            d.split.usage_awarded,
            &tokens(d.split.usage_awarded, denom),
        );
        td(
            s,
            "stipend_awarded",
            d.split.stipend_awarded,
            &tokens(d.split.stipend_awarded, denom),
        );
        td(
            s,
            "left_in_pool",
            d.split.left_in_pool,
            &tokens(d.split.left_in_pool, denom),
        );
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody>\n</table></div>\n</section>\n");
}

/// `(name, value with unit)` of every reward param.
pub fn params_rows(p: &RewardParams, denom: &str) -> Vec<(String, String)> {
    let mut v = vec![
        (
            "emission per epoch".to_string(),
            tokens(p.emission_per_epoch, denom),
        ),
        (
            "commercial multiplier m_commercial".into(),
            multiplier(p.m_commercial),
        ),
        (
            "maximum community multiplier M".into(),
            multiplier(p.m_community_max),
        ),
        ("target community share S*".into(), percent(p.target_share)),
        (
            "stipend fraction alpha of the budget".into(),
            percent(p.alpha),
        ),
        ("value counted per call at most v_cap".into(), usd(p.v_cap)),
        (
            "most usage reward per call c_call".into(),
            p.c_call
                .map(|c| tokens(c, denom))
                .unwrap_or_else(|| "no cap (volume-only)".into()),
        ),
    ];
    v.push((
        "claim window".into(),
        format!("{} finalized epochs", thousands(p.claim_epochs.into())),
    ));
    for h in &p.hardware_weights {
        v.push((
            format!("hardware class {}: stipend weight", h.class),
            h.weight.to_string(),
        ));
        v.push((
            format!(
                "hardware class {}: most stipend per node and epoch",
                h.class
            ),
            tokens(h.stipend_cap, denom),
        ));
    }
    v
}

fn params_section(s: &mut String, f: &Figures) {
    let denom = &f.pool.denom;
    s.push_str("<section aria-labelledby=\"params\">\n<h2 id=\"params\">Reward params</h2>\n");
    let mut table = |caption: &str, p: &RewardParams| {
        let _ = write!(
            s,
            "<div class=\"scroll\"><table>\n<caption>{}</caption>\n<thead><tr>\
             <th scope=\"col\">param</th><th scope=\"col\">value</th></tr></thead>\n<tbody>\n",
            esc(caption)
        );
        for (k, v) in params_rows(p, denom) {
            let _ = writeln!(
                s,
                "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
                esc(&k),
                esc(&v)
            );
        }
        s.push_str("</tbody>\n</table></div>\n");
    };
    table("In force", &f.params.current);
    match &f.params.scheduled {
        Some(sch) => table(
            &format!("Scheduled by governance from epoch {}", sch.from_epoch),
            &sch.params,
        ),
        None => s.push_str("<p>No change of params is scheduled.</p>\n"),
    }
    s.push_str("</section>\n");
}
