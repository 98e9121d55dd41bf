package htmlreport

import "html/template"

// page is the HTML of the report: one file, no scripts, no other requests.
var page = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{{if .Refresh}}<meta http-equiv="refresh" content="{{.Refresh}}">
{{end}}<title>{{.Title}}</title>
<link rel="icon" href="data:,">
<style>
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", sans-serif; color: #1b1f24; margin: 0 auto; padding: 1.5em 2em 4em; max-width: 1400px; }
h1 { font-size: 1.6em; margin: 0 0 .2em; }
h2 { font-size: 1.35em; margin: 2.2em 0 .3em; padding-top: .6em; border-top: 2px solid #d0d7de; }
h3 { font-size: 1.05em; margin: 1.5em 0 .4em; }
.meta, .src, .note { color: #57606a; font-size: .9em; }
nav ul { columns: 3 16em; padding-left: 1.2em; }
nav li { break-inside: avoid; }
table { border-collapse: collapse; margin: .4em 0; font-size: .9em; }
th, td { border: 1px solid #d0d7de; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.verdict { font-weight: 600; white-space: nowrap; }
.pass { color: #1a7f37; } .fail { color: #cf222e; } .known { color: #9a6700; } .na { color: #57606a; }
code, pre { font-family: ui-monospace, "Liberation Mono", monospace; font-size: .92em; }
pre { white-space: pre-wrap; margin: 0; max-height: 12em; overflow: auto; }
figure { display: inline-block; margin: .5em 1em 1em 0; vertical-align: top; max-width: 100%; }
figure img { max-width: 100%; height: auto; border: 1px solid #eaeef2; }
figcaption { color: #57606a; font-size: .85em; max-width: 60em; }
details { margin: .6em 0; }
summary { cursor: pointer; }
.pending { color: #9a6700; }
ul.settings { columns: 4 20em; list-style: none; padding-left: 1em; font-size: .88em; }
ul.settings li { break-inside: avoid; }
</style>
</head>
<body>
<header>
<h1>{{.Title}}</h1>
<p class="meta">Results directory <code>{{.Dir}}</code> · {{.Finished}} of {{.Total}} runs finished · written {{.Updated}}{{if .Refresh}} · reloads every {{.Refresh}} s while the batch runs{{end}}</p>
<nav><ul>
{{range .Experiments}}<li><a href="#{{.Anchor}}">{{.Name}}</a> ({{.Finished}}/{{.Total}} runs{{if .Claims}}; {{.Agreement}}{{end}})</li>
{{end}}</ul></nav>
</header>
<main>
{{range .Experiments}}<section id="{{.Anchor}}" class="experiment">
<h2>experiment {{.Name}}</h2>
<p class="src">{{.Source}} · {{.Finished}} of {{.Total}} runs finished{{if .Pending}} · <span class="pending">{{.Pending}} not finished</span>{{end}}</p>

<h3>Grid</h3>
<table class="grid">
<tr><th>axis</th><th>values</th></tr>
{{range .Axes}}<tr><td><code>{{.Path}}</code></td><td>{{.Values}}</td></tr>
{{else}}<tr><td colspan="2">nothing varied</td></tr>
{{end}}<tr><td>seeds</td><td>{{.Seeds}}</td></tr>
</table>
<details class="settings"><summary>Settings every run shares ({{len .Settings}})</summary>
<ul class="settings">
{{range .Settings}}<li><code>{{index . 0}}</code> = {{index . 1}}</li>
{{end}}</ul>
</details>

{{if .Claims}}<h3>Expectations</h3>
<p>Agreement: {{.Agreement}}.</p>
<table class="claims">
<tr><th>verdict</th><th>claim</th><th>measured</th><th>decided on</th></tr>
{{range .Claims}}<tr><td class="verdict {{.Class}}">{{.Verdict}}</td><td><code>{{.Claim}}</code><br><span class="src">{{.Source}}</span></td><td>{{.Measured}}</td><td>{{.Basis}}</td></tr>
{{end}}</table>
{{end}}
<h3>Results</h3>
<table class="summary">
<tr>{{range .Header}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td{{if .Num}} class="num"{{end}}>{{.Text}}</td>{{end}}</tr>
{{end}}</table>
{{range .Notes}}<p class="note">{{.}}</p>
{{end}}
{{if .Figures}}<h3>Figures</h3>
{{range .Figures}}<figure><img src="{{.Src}}" alt="{{.Name}}"><figcaption>{{.Caption}}</figcaption></figure>
{{end}}{{end}}{{if .RunFigures}}<details class="runs"><summary>Figures of each run ({{len .RunFigures}})</summary>
{{range .RunFigures}}<figure><img src="{{.Src}}" alt="{{.Name}}"><figcaption>{{.Caption}}</figcaption></figure>
{{end}}</details>
{{end}}
{{if .Problems}}<h3>Failed and diverged runs</h3>
<table class="problems">
<tr><th>run</th><th>settings</th><th>status</th><th>step</th><th>error</th></tr>
{{range .Problems}}<tr><td><code>{{.Run}}</code></td><td>{{.Varied}}</td><td class="verdict {{if eq .Status "failed"}}fail{{else}}known{{end}}">{{.Status}}</td><td class="num">{{.Step}}</td><td><pre>{{.Error}}</pre></td></tr>
{{end}}</table>
{{end}}</section>
{{end}}</main>
</body>
</html>
`))
