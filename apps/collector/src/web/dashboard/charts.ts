/**
 * The daily charts of the usage section, drawn with uPlot (loaded by its own script tag, served
 * by the collector from node_modules): one per meter, with a tooltip and an empty state.
 */
import type UPlot from 'uplot'
import { DAY_MS } from '@tally/protocol/contract'
import { el, fill } from '../shared/dom.js'
import { fmt } from '../shared/format.js'

/** The global of uPlot.iife.min.js; undefined when it did not load. */
const library = () => (globalThis as { uPlot?: typeof UPlot }).uPlot

const charts = new Map<string, UPlot>()

/** Every day of the inclusive range, so that days without usage show as zero. */
export function daysOf(from: string, to: string): string[] {
  const out: string[] = []
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += DAY_MS) out.push(new Date(t).toISOString().slice(0, 10))
  return out
}

export function dropChart(meter: string): void {
  charts.get(meter)?.destroy()
  charts.delete(meter)
}

/** A tooltip that follows the cursor: the day and the count under it. */
function tooltipPlugin(label: string): UPlot.Plugin {
  let tip: HTMLElement
  return {
    hooks: {
      init: (u) => {
        tip = el('div', { class: 'tip', role: 'status', 'aria-live': 'polite' })
        tip.hidden = true
        u.over.append(tip)
        u.over.addEventListener('mouseleave', () => {
          tip.hidden = true
        })
      },
      setCursor: (u) => {
        const i = u.cursor.idx
        const left = u.cursor.left ?? -1
        if (i == null || left < 0) {
          tip.hidden = true
          return
        }
        const day = new Date((u.data[0][i] as number) * 1000).toISOString().slice(0, 10)
        tip.textContent = `${day}: ${fmt(u.data[1]?.[i])} ${label.toLowerCase()}`
        tip.hidden = false
        const x = Math.min(left + 10, u.over.clientWidth - tip.offsetWidth - 2)
        tip.style.transform = `translate(${Math.max(0, x)}px, ${Math.max(0, (u.cursor.top ?? 0) - 34)}px)`
      },
    },
  }
}

/** The chart of one meter over `days`, or its empty state when every value is zero. */
export function drawChart(node: HTMLElement, meter: string, label: string, days: string[], values: number[]): void {
  dropChart(meter)
  const total = values.reduce((a, b) => a + b, 0)
  if (total === 0) {
    // An empty state, not a flat line along zero that looks like a broken chart.
    node.removeAttribute('role')
    node.removeAttribute('aria-label')
    fill(node, el('p', { class: 'empty chart-empty' }, `No ${label.toLowerCase()} from ${days[0]} to ${days[days.length - 1]}.`))
    return
  }
  let peak = 0
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[peak] as number)) peak = i
  node.setAttribute('role', 'img')
  node.setAttribute(
    'aria-label',
    `${label} per day from ${days[0]} to ${days[days.length - 1]}: ${fmt(total)} in all, at most ${fmt(values[peak])} on ${days[peak]}.`,
  )
  node.replaceChildren()
  const Plot = library()
  if (typeof Plot !== 'function') {
    fill(node, el('p', { class: 'empty' }, 'The chart library did not load.'))
    return
  }
  const data: UPlot.AlignedData = [days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000), values]
  const width = Math.max(240, node.clientWidth || 320)
  const chart = new Plot(
    {
      width,
      height: 200,
      tzDate: (ts) => Plot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      legend: { show: false },
      cursor: { points: { size: 7 }, drag: { x: false, y: false } },
      plugins: [tooltipPlugin(label)],
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      // Counts are whole: no 0.25 ticks on the y axis.
      axes: [{}, { size: 50, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6] }],
      series: [{}, { label, stroke: '#3b5bdb', fill: 'rgba(59,91,219,0.12)', width: 2, points: { show: days.length <= 40 } }],
    },
    data,
    node,
  )
  charts.set(meter, chart)
}

/** Redraws the charts at their boxes' width once the window stops resizing. */
export function resizeChartsWithWindow(): void {
  let resizing: ReturnType<typeof setTimeout> | undefined
  addEventListener('resize', () => {
    clearTimeout(resizing)
    resizing = setTimeout(() => {
      for (const [m, chart] of charts) {
        const node = document.querySelector<HTMLElement>(`[data-chart="${m}"]`)
        if (node) chart.setSize({ width: Math.max(240, node.clientWidth), height: 200 })
      }
    }, 150)
  })
}
