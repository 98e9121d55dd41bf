// Renders a sinkrun HTML report in headless Chromium and checks the page as
// a reader sees it: every figure decoded (naturalWidth > 0), the tables and
// verdicts visible with the expected content, no console errors, and no
// request leaving the file (the page must be self-contained).
//
//   node check.mjs EXPECT.json
//
// EXPECT.json (written by browser_test.go):
//   { "page": "/abs/report.html", "screenshot": "/abs/shot.png" (optional),
//     "experiments": { "NAME": { "verdicts": ["pass", ...], "rows": N, "figures": N,
//                               "problems": ["diverged", ...], "columns": ["Sink_1 %", ...] } } }
import { readFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'

const expect = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const failures = []
const fail = (msg) => failures.push(msg)

const profile = mkdtempSync(join(tmpdir(), 'sinkrun-chromium-'))
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.SINKRUN_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1400, height: 900 },
})
try {
  const page = context.pages()[0] ?? await context.newPage()
  page.on('console', (msg) => { if (msg.type() === 'error') fail(`console error: ${msg.text()}`) })
  page.on('pageerror', (err) => fail(`page error: ${err.message}`))
  page.on('request', (req) => {
    const url = req.url()
    if (!url.startsWith('file:') && !url.startsWith('data:')) fail(`the page requested ${url}: it is not self-contained`)
  })
  page.on('requestfailed', (req) => fail(`request failed: ${req.url()}: ${req.failure()?.errorText}`))
  await page.goto('file://' + expect.page, { waitUntil: 'load' })

  // Open every <details> (settings, per-run figures) as a reader would.
  await page.evaluate(() => document.querySelectorAll('details').forEach((d) => { d.open = true }))
  const images = await page.evaluate(async () => Promise.all([...document.images].map(async (img) => {
    let decoded = true
    try { await img.decode() } catch { decoded = false }
    const r = img.getBoundingClientRect()
    return { alt: img.alt, decoded, naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight, width: r.width, height: r.height,
      section: img.closest('section')?.id ?? '' }
  })))
  for (const img of images) {
    if (!img.decoded || img.naturalWidth <= 0 || img.naturalHeight <= 0) fail(`image ${img.alt} in ${img.section} did not decode (naturalWidth ${img.naturalWidth})`)
    if (img.width <= 0 || img.height <= 0) fail(`image ${img.alt} in ${img.section} is not displayed (${img.width}x${img.height})`)
  }

  const title = await page.title()
  if (!title.startsWith('sinkrun results')) fail(`title ${JSON.stringify(title)}`)

  for (const [name, want] of Object.entries(expect.experiments)) {
    const anchor = await page.evaluate((n) => {
      const link = [...document.querySelectorAll('nav a')].find((a) => a.textContent === n)
      return link ? link.getAttribute('href').slice(1) : null
    }, name)
    if (!anchor) { fail(`no link to experiment ${name} in the page's contents`); continue }
    const section = page.locator(`section[id="${anchor}"]`)
    if (!(await section.isVisible())) { fail(`experiment ${name}: its section is not visible`); continue }
    const heading = await section.locator('h2').innerText()
    if (heading !== `experiment ${name}`) fail(`experiment ${name}: heading ${JSON.stringify(heading)}`)

    for (const table of ['table.grid', 'table.summary']) {
      if (!(await section.locator(table).isVisible())) fail(`experiment ${name}: ${table} not visible`)
    }
    const summary = section.locator('table.summary')
    const header = await summary.locator('tr').first().locator('th').allInnerTexts()
    for (const col of want.columns ?? []) {
      if (!header.includes(col)) fail(`experiment ${name}: the results table has no column ${JSON.stringify(col)} (has ${JSON.stringify(header)})`)
    }
    const rows = await summary.locator('tr').count() - 1
    if (rows !== want.rows) fail(`experiment ${name}: ${rows} result rows, want ${want.rows}`)
    const cells = await summary.locator('td.num').allInnerTexts()
    if (!cells.some((c) => /^\d+\.\d+( ± \d+\.\d+)?\*?$/.test(c))) fail(`experiment ${name}: no measured number in the results table: ${JSON.stringify(cells)}`)

    const verdicts = await section.locator('table.claims td.verdict').allInnerTexts()
    if (JSON.stringify(verdicts) !== JSON.stringify(want.verdicts ?? [])) fail(`experiment ${name}: verdicts ${JSON.stringify(verdicts)}, want ${JSON.stringify(want.verdicts ?? [])}`)
    for (const v of await section.locator('table.claims td.verdict').all()) {
      if (!(await v.isVisible())) fail(`experiment ${name}: a verdict is not visible`)
      const color = await v.evaluate((el) => getComputedStyle(el).color)
      if (color === 'rgb(0, 0, 0)' || color === '') fail(`experiment ${name}: verdict ${await v.innerText()} is not coloured (${color})`)
    }

    const figures = images.filter((i) => i.section === anchor).length
    if (figures !== want.figures) fail(`experiment ${name}: ${figures} figures, want ${want.figures}`)

    const problems = await section.locator('table.problems tr td.verdict').allInnerTexts()
    if (JSON.stringify(problems) !== JSON.stringify(want.problems ?? [])) fail(`experiment ${name}: failed/diverged runs ${JSON.stringify(problems)}, want ${JSON.stringify(want.problems ?? [])}`)
    if (problems.length > 0) {
      const errors = await section.locator('table.problems pre').allInnerTexts()
      if (errors.some((e) => e.trim() === '')) fail(`experiment ${name}: a failed or diverged run without its error`)
    }
  }
  if (expect.screenshot) await page.screenshot({ path: expect.screenshot, fullPage: false })
  console.log(JSON.stringify({ images: images.length, failures }, null, 2))
} finally {
  await context.close()
  rmSync(profile, { recursive: true, force: true })
}
process.exit(failures.length === 0 ? 0 : 1)
