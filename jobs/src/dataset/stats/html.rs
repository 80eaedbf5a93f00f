//! The HTML summary page of `stats`: the totals, the actionness numbers, the top-words tables, and every plot
//! embedded as a `data:` URI, so the page is one self-contained file.

use std::fmt::Write;

use base64::Engine;

use super::StatsReport;

/// Escapes text for HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn row(html: &mut String, name: &str, value: &str) {
    let _ = write!(html, "<tr><th>{}</th><td>{}</td></tr>", escape(name), escape(value));
}

fn table(html: &mut String, title: &str, entries: &[(String, u64)]) {
    let _ = write!(
        html,
        "<div class=\"words\"><h3>{}</h3><table><tr><th>#</th><th>word</th><th>count</th></tr>",
        escape(title)
    );
    for (i, (word, count)) in entries.iter().enumerate() {
        let _ = write!(html, "<tr><td>{}</td><td>{}</td><td>{count}</td></tr>", i + 1, escape(word));
    }
    html.push_str("</table></div>");
}

/// The page; `plots` are `(title, png bytes)`.
pub fn render(report: &StatsReport, plots: &[(String, Vec<u8>)]) -> String {
    let mut html = String::from(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>clipstream stats</title><style>\
         body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}\
         th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}.words{display:inline-block;vertical-align:top;\
         margin-right:2em}img{display:block;margin:1em 0;border:1px solid #eee}</style></head><body>",
    );
    let _ = write!(html, "<h1>clipstream stats</h1><p>{}</p><table>", escape(&report.input));
    let c = &report.collected;
    row(&mut html, "clips", &c.clips.to_string());
    row(&mut html, "videos", &c.videos.to_string());
    row(&mut html, "hours", &format!("{:.2}", c.hours));
    row(&mut html, "clips with a caption", &c.captioned_clips.to_string());
    let mean = |m: Option<f64>| m.map_or("-".to_string(), |v| format!("{v:.3}"));
    row(&mut html, "mean clip duration (s)", &mean(c.histograms.duration_s.mean));
    row(&mut html, "mean caption length (words)", &mean(c.histograms.caption_words.mean));
    row(&mut html, "mean similarity score", &mean(c.histograms.sim_score.mean));
    row(&mut html, "mean aesthetic score", &mean(c.histograms.aesthetic_score.mean));
    row(&mut html, "unusable input rows", &report.bad_rows.to_string());
    html.push_str("</table>");
    match (&report.actionness, &report.actionness_skipped) {
        (Some(a), _) => {
            let _ = write!(
                html,
                "<h2>Actionness</h2><p>{} sampled captions, tagged by {}</p><table>",
                a.captions,
                escape(&a.tool)
            );
            row(&mut html, "distinct verbs", &a.distinct_verbs.to_string());
            row(&mut html, "verbs per caption", &format!("{:.3}", a.verbs_per_caption));
            row(&mut html, "captions with a verb", &a.captions_with_verb.to_string());
            html.push_str("</table>");
            table(&mut html, "top words (nouns, verbs, adjectives)", &a.top_words);
            table(&mut html, "top verbs", &a.top_verbs);
        }
        (None, Some(reason)) => {
            let _ = write!(html, "<h2>Actionness</h2><p>not computed: {}</p>", escape(reason));
        }
        (None, None) => {}
    }
    html.push_str("<h2>Distributions</h2>");
    let engine = base64::engine::general_purpose::STANDARD;
    for (title, png) in plots {
        let _ = write!(html, "<img alt=\"{}\" src=\"data:image/png;base64,{}\">", escape(title), engine.encode(png));
    }
    html.push_str("</body></html>\n");
    html
}
