import Foundation
import Latent
import Plot

/// `report.html`: one self-contained page about a training run (no network; the charts are
/// inline SVG and the pictures inline PNG): the settings, the compiled plan, the training curves,
/// how much each latent coordinate is used, and the pictures.
struct RunReport {
    let model: CommandModel
    /// Label and value of each setting, in order.
    let settings: [(String, String)]
    let plan: String
    let elboChart: String
    let activity: [LatentActivity]
    /// Title and PNG image of each picture.
    let pictures: [(String, PNGImage)]

    /// The page.
    func html() -> String {
        var page = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
                    "<title>\(escapeXML(model.name)): training report</title>",
                    "<style>body{font-family:sans-serif;max-width:1100px;margin:24px auto;padding:0 16px;color:#222}",
                    "table{border-collapse:collapse}td,th{padding:3px 12px 3px 0;text-align:left}td.n{text-align:right;font-family:monospace}",
                    "pre{background:#f4f4f4;padding:10px;overflow-x:auto}.warning{background:#fff3cd;border:1px solid #e0c060;padding:8px 12px}",
                    "img{image-rendering:pixelated;max-width:100%}</style></head><body>",
                    "<h1>\(escapeXML(model.name))</h1>", "<p>\(escapeXML(model.summary))</p>"]
        page.append("<h2>Settings and results</h2><table>")
        for (label, value) in settings { page.append("<tr><th>\(escapeXML(label))</th><td>\(escapeXML(value))</td></tr>") }
        page.append("</table>")
        page.append("<h2>Compiled guide</h2><pre>\(escapeXML(plan))</pre>")
        page.append("<h2>Training curves</h2>" + elboChart)
        page += activitySection()
        for (title, image) in pictures {
            page.append("<h2>\(escapeXML(title))</h2><img alt=\"\(escapeXML(title))\" src=\"data:image/png;base64,\(Data(image.encoded()).base64EncodedString())\">")
        }
        page.append("</body></html>")
        return page.joined(separator: "\n") + "\n"
    }

    /// The KL and activity of each coordinate of each local continuous site, with a plain
    /// warning where coordinates have collapsed onto the prior.
    func activitySection() -> [String] {
        var section = ["<h2>Latent coordinates in use</h2>"]
        guard !activity.isEmpty else {
            return section + ["<p>The model has no local continuous latent site, so there are no coordinates to measure.</p>"]
        }
        section.append("""
            <p>For each coordinate i: E<sub>x</sub>[KL(q(z<sub>i</sub> | x) || p(z<sub>i</sub>))] in nats, and its activity \
            Var<sub>x</sub>(E<sub>q</sub>[z<sub>i</sub> | x]) over the held-out rows; a coordinate is active when its activity \
            exceeds \(LatentActivity.activeThreshold) (Burda et al., 2016).</p>
            """)
        for site in activity {
            let inactive = site.activity.count - site.activeCoordinates
            if site.activeCoordinates == 0 {
                section.append("<p class=\"warning\"><b>Posterior collapse:</b> no coordinate of '\(escapeXML(site.site))' is active; the encoder's output does not depend on the data and the decoder ignores z. A KL warm-up, a weaker decoder or a smaller KL weight (beta) are the usual remedies.</p>")
            } else if inactive > 0 {
                section.append("<p class=\"warning\">\(inactive) of \(site.activity.count) coordinates of '\(escapeXML(site.site))' are inactive: their posterior stays at the prior and they carry nothing about x (as when the latent is larger than the data need, or beta &gt; 1). The model uses \(site.activeCoordinates).</p>")
            } else {
                let all = site.activity.count == 1 ? "The one coordinate" : "All \(site.activity.count) coordinates"
                section.append("<p>\(all) of '\(escapeXML(site.site))' \(site.activity.count == 1 ? "is" : "are") active.</p>")
            }
            section.append("<table><tr><th>\(escapeXML(site.site)) coordinate</th><th>KL (nats)</th><th>activity</th><th></th></tr>")
            for (index, activity) in site.activity.enumerated() {
                let kl = site.klPerCoordinate.map { String(format: "%.3f", $0[index]) } ?? "-"
                let state = activity > LatentActivity.activeThreshold ? "active" : "inactive"
                section.append("<tr><td class=\"n\">\(index + 1)</td><td class=\"n\">\(kl)</td><td class=\"n\">\(String(format: "%.4f", activity))</td><td>\(state)</td></tr>")
            }
            section.append("</table>")
        }
        return section
    }
}
