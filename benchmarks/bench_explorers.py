"""Explorers in headless Chromium: update latency, frames per second, page weight.

    python benchmarks/bench_explorers.py            # after make book; about 2 minutes
    python benchmarks/bench_explorers.py --pages book/01_introduction.html

For every explorer on every page of the built book (served locally, network
cut, as in tests/browser):

* **latency**: in every combination of the explorer's drop-downs and
  checkboxes, every control that is enabled there (slider, drop-down,
  checkbox, text field) gets a new value and its ``input``/``change`` event;
  the time from the event to the next animation frame after the explorer has
  rebuilt its run, redrawn and printed its readouts (median and worst over
  all those inputs), and the part of it spent in the explorer's handler.
  Baseline, measured in the same round: the same event on a bare
  ``<input>`` with no listener, to the next frame.
* **frames per second** while the explorer plays at its default settings,
  over 3 s of wall time, with the simulated time reached.  Baseline, in the
  same round: an empty ``requestAnimationFrame`` loop over 3 s.

The machine is shared, so each explorer is measured in 3 rounds and each
number keeps its best round.
* **time to the end**: for every animated explorer at its defaults and with
  each slider but n at its smallest and largest value, one at a time (n at
  its default), and each value of each drop-down: the seconds of stepping
  from t = 0 to tMax, measured by stepping for up to 3 s and projected from
  the simulated time reached (the cost per step is constant in a run).
  Where that exceeds 5 s, the explorer must show its progress and say why
  (the metastability note): "run to the end" is pressed and the note looked
  for.
* **page weight**: bytes transferred for the page and everything it loads
  (HTML, scripts, styles, fonts, images), caches off.

Prints markdown tables; exits 1 if a latency exceeds 50 ms, a frame rate is
below 30 frames per second, a page weighs more than 4 MB, or a setting
slower than 5 s does not say so.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from harness import BUILT_BOOK, book_pages, browser, missing_requirements, open_page, serve, wait_for_math  # noqa: E402

LATENCY_LIMIT_MS = 50.0
FPS_FLOOR = 30.0
WEIGHT_LIMIT = 4 * 1024 * 1024
#: Seconds of stepping to the end above which an explorer must show its progress and say why.
SLOW_RUN_S = 5.0

# In the page: every combination of an explorer's drop-downs and checkboxes, and its controls' keys.
PLAN_JS = """(root) => {
  const controls = root.usaavExplorer.run.definition.controls;
  let combinations = [{}];
  for (const c of controls) {
    const values = c.type === 'choice' ? c.options.map(([v]) => v) : c.type === 'toggle' ? [false, true] : null;
    if (values) combinations = combinations.flatMap((x) => values.map((v) => ({ ...x, [c.key]: v })));
  }
  return { combinations, keys: controls.map((c) => c.key) };
}"""

# In the page: put the explorer in `setting` (untimed), then move control `key` as a reader would and
# resolve after the next frame; null where the control is disabled in that setting.
MOVE_JS = """async ([root, setting, key]) => {
  const c = root.usaavExplorer;
  for (const [k, v] of Object.entries(setting)) c.set(k, v);
  await new Promise((resolve) => requestAnimationFrame(() => resolve()));
  const input = root.querySelector(`.usaav-x-control[data-key="${key}"]`).querySelector('input, select');
  if (input.disabled) return null;
  let type = 'change';
  if (input.tagName === 'SELECT') {
    input.selectedIndex = (input.selectedIndex + 1) % input.options.length;
  } else if (input.type === 'checkbox') {
    input.checked = !input.checked;
  } else if (input.type === 'text') {
    input.value = input.value === 'Hi' || input.value === '2 * pi * (s - 0.5)' ? 'Oh' : key === 'quantile' ? '2 * pi * (s - 0.5)' : 'Hi';
  } else {
    const step = Number(input.step), value = Number(input.value);
    input.value = String(value + step <= Number(input.max) ? value + step : Number(input.min));
    type = 'input';
  }
  const t0 = performance.now();
  input.dispatchEvent(new Event(type, { bubbles: true }));
  await new Promise((resolve) => requestAnimationFrame(() => resolve()));
  return { total: performance.now() - t0, handler: c.stats.lastLatencyMs };
}"""

BARE_INPUT_JS = """async () => {
  const input = document.createElement('input');
  input.type = 'range';
  document.body.append(input);
  const t0 = performance.now();
  input.value = '60';
  input.dispatchEvent(new Event('input', { bubbles: true }));
  await new Promise((resolve) => requestAnimationFrame(() => resolve()));
  input.remove();
  return performance.now() - t0;
}"""

FPS_JS = """async ([root, seconds]) => {
  const c = root.usaavExplorer;
  c.restart();
  const frames0 = c.stats.frames, t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const frames = c.stats.frames - frames0, elapsed = (performance.now() - t0) / 1000;
  const simulated = c.run.t;
  c.pause();
  return { fps: frames / elapsed, simulated, tMax: c.run.tMax };
}"""

# In the page: the settings whose time to the end is measured (defaults; each slider but n at
# its ends; each drop-down value).
END_PLAN_JS = """(root) => {
  const c = root.usaavExplorer, defaults = c.values(), settings = [{}];
  for (const control of c.run.definition.controls) {
    if (control.type === 'slider' && control.key !== 'n') settings.push({ [control.key]: control.min }, { [control.key]: control.max });
    if (control.type === 'choice') for (const [v] of control.options) if (v !== defaults[control.key]) settings.push({ [control.key]: v });
  }
  return settings;
}"""

# In the page: seconds of stepping from 0 to tMax in `setting`, projected from at most `budget` seconds.
END_JS = """([root, defaults, setting, budget]) => {
  const c = root.usaavExplorer;
  for (const [k, v] of Object.entries({ ...defaults, ...setting })) c.set(k, v);
  c.pause();
  if (!c.run.animated) return null;
  c.restart(); c.pause();
  const tMax = c.run.tMax, t0 = performance.now();
  // Steps in twentieths of the run: each advanceTo also draws once, a small part of the time.
  while (c.run.t < tMax && performance.now() - t0 < budget * 1000) c.advanceTo(Math.min(tMax, c.run.t + tMax / 20));
  const elapsed = (performance.now() - t0) / 1000;
  return { seconds: elapsed * tMax / c.run.t, reached: c.run.t, tMax };
}"""

# In the page: press "run to the end" and report whether the slow-setting note shows after `wait` ms.
SLOW_NOTE_JS = """async ([root, wait]) => {
  const c = root.usaavExplorer;
  c.restart();
  root.querySelectorAll('.usaav-x-transport button')[2].click();
  await new Promise((resolve) => setTimeout(resolve, wait));
  const note = root.querySelector('.usaav-x-slow');
  const shown = !!note && !note.hidden;
  c.pause();
  return { shown, text: shown ? note.textContent : '' };
}"""

RESET_JS = "([r, values]) => { for (const [k, v] of Object.entries(values)) r.usaavExplorer.set(k, v); }"

EMPTY_LOOP_JS = """async (seconds) => {
  let frames = 0;
  const t0 = performance.now();
  await new Promise((resolve) => {
    const tick = () => { frames += 1; if (performance.now() - t0 < seconds * 1000) requestAnimationFrame(tick); else resolve(); };
    requestAnimationFrame(tick);
  });
  return frames / ((performance.now() - t0) / 1000);
}"""

WEIGHT_JS = """() => {
  const entries = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')];
  const by = {};
  let total = 0;
  for (const e of entries) {
    const size = e.transferSize || e.encodedBodySize || 0;
    const path = new URL(e.name).pathname;
    const kind = e.entryType === 'navigation' ? 'html'
      : /\\.(png|jpe?g|svg|gif)$/.test(path) ? 'images'
      : /\\.(woff2?|ttf|otf)$/.test(path) ? 'fonts'
      : /mathjax/.test(path) ? 'mathjax'
      : /usaav-web/.test(path) ? 'explorers'
      : /\\.css$/.test(path) ? 'css' : 'other js';
    by[kind] = (by[kind] || 0) + size;
    total += size;
  }
  return { total, by, requests: entries.length };
}"""


def _mb(size: float) -> str:
    return f"{size / 1024 / 1024:.2f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} kB"


def measure(pages: list[str], fps_seconds: float, inputs: int, n_rounds: int) -> tuple[list[dict], list[dict], list[str]]:
    explorers, weights, problems = [], [], []
    with serve() as origin, browser() as instance:
        for page_path in pages:
            page, log = open_page(instance, origin, width=1400, height=900)
            client = page.context.new_cdp_session(page)
            client.send("Network.setCacheDisabled", {"cacheDisabled": True})
            page.goto(f"{origin}/{page_path}", wait_until="networkidle")
            wait_for_math(page)
            placeholders = page.locator("div.usaav-explorer").count()
            if placeholders:
                page.wait_for_function(f"() => document.querySelectorAll('.usaav-x').length === {placeholders}")
            page.wait_for_timeout(300)
            weight = page.evaluate(WEIGHT_JS)
            weights.append({"page": page_path, **weight})
            roots = page.locator(".usaav-x")
            for k in range(roots.count()):
                root = roots.nth(k)
                root.scroll_into_view_if_needed()
                name = root.get_attribute("data-explorer")
                handle = root.element_handle()
                playable = root.locator(".usaav-x-play").is_visible()
                defaults = page.evaluate("(r) => r.usaavExplorer.values()", handle)
                plan = page.evaluate(PLAN_JS, handle)
                rounds = []
                for _ in range(n_rounds):
                    # One round: inputs to this explorer, then bare inputs, then 3 s playing, then an
                    # empty loop; each measure keeps its best round (a burst of load spoils a few).
                    moves = [m for m in (page.evaluate(MOVE_JS, [handle, {**defaults, **combination}, key])
                                         for combination in plan["combinations"] for key in plan["keys"]) if m]
                    bare = [page.evaluate(BARE_INPUT_JS) for _ in range(inputs)]
                    page.evaluate(RESET_JS, [handle, defaults])  # frames per second at the default settings
                    run = page.evaluate(FPS_JS, [handle, fps_seconds]) if playable else None
                    empty_fps = page.evaluate(EMPTY_LOOP_JS, fps_seconds)
                    rounds.append({
                        "inputs": len(moves),
                        "combinations": len(plan["combinations"]),
                        "latency_median": statistics.median(m["total"] for m in moves) if moves else None,
                        "latency_max": max(m["total"] for m in moves) if moves else None,
                        "handler_median": statistics.median(m["handler"] for m in moves) if moves else None,
                        "handler_max": max(m["handler"] for m in moves) if moves else None,
                        "bare_median": statistics.median(bare),
                        "fps": run["fps"] if run else None,
                        "empty_fps": empty_fps,
                        "simulated": run["simulated"] if run else None,
                        "t_max": run["tMax"] if run else None,
                    })

                def best(key, pick=min):
                    values = [r[key] for r in rounds if r[key] is not None]
                    return pick(values) if values else None

                row = {"page": page_path, "explorer": name, "inputs": rounds[0]["inputs"],
                       "combinations": rounds[0]["combinations"],
                       **{k: best(k) for k in ("latency_median", "latency_max", "handler_median", "handler_max",
                                               "bare_median")},
                       **{k: best(k, max) for k in ("fps", "empty_fps", "simulated")},
                       "t_max": rounds[0]["t_max"]}
                if playable:
                    row["ends"] = []
                    for setting in page.evaluate(END_PLAN_JS, handle):
                        end = page.evaluate(END_JS, [handle, defaults, setting, 3.0])
                        if end is None:
                            continue
                        note = page.evaluate(SLOW_NOTE_JS, [handle, 1500]) if end["seconds"] > SLOW_RUN_S else None
                        row["ends"].append({"setting": setting, **end, "note": note})
                        if note is not None and not note["shown"]:
                            problems.append(f"{page_path} {name} {setting}: {end['seconds']:.1f} s to the end, "
                                            "and no note says why")
                    page.evaluate(RESET_JS, [handle, defaults])
                explorers.append(row)
                if row["latency_median"] is not None and row["latency_median"] > LATENCY_LIMIT_MS:
                    problems.append(f"{page_path} {name}: latency {row['latency_median']:.1f} ms > {LATENCY_LIMIT_MS} ms")
                if row["fps"] is not None and row["fps"] < FPS_FLOOR:
                    problems.append(f"{page_path} {name}: {row['fps']:.1f} frames per second < {FPS_FLOOR}")
            if weight["total"] > WEIGHT_LIMIT:
                problems.append(f"{page_path}: {_mb(weight['total'])} > {_mb(WEIGHT_LIMIT)}")
            problems += [f"{page_path}: {p}" for p in log.problems()]
            page.context.close()
    return explorers, weights, problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", nargs="*", help="pages of the built book (default: every page)")
    parser.add_argument("--seconds", type=float, default=3.0, help="animation time per frame-rate measurement")
    parser.add_argument("--inputs", type=int, default=12, help="bare inputs per baseline measurement")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per explorer; each measure keeps its best")
    args = parser.parse_args(argv)
    reason = missing_requirements()
    if reason:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 2
    pages = args.pages or book_pages(BUILT_BOOK)
    load_before = os.getloadavg()
    explorers, weights, problems = measure(pages, args.seconds, args.inputs, args.rounds)
    load_after = os.getloadavg()
    print(f"{os.cpu_count()} logical CPUs; load average (1, 5, 15 min) {load_before[0]:.1f}, {load_before[1]:.1f}, "
          f"{load_before[2]:.1f} before and {load_after[0]:.1f}, {load_after[1]:.1f}, {load_after[2]:.1f} after the run")
    print()

    print("| page | explorer | inputs (settings) | input → next frame, median (worst) | explorer's handler, median (worst) | bare input → next frame | ratio | frames/s playing | empty rAF loop | ratio | simulated t in 3 s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in explorers:
        if r["latency_median"] is None:
            lat = handler = ratio = "–"
        else:
            lat = f"{r['latency_median']:.1f} ms ({r['latency_max']:.1f})"
            handler = f"{r['handler_median']:.1f} ms ({r['handler_max']:.1f})"
            ratio = f"{r['latency_median'] / r['bare_median']:.2f}"
        fps = f"{r['fps']:.1f}" if r["fps"] is not None else "– (still picture)"
        fratio = f"{r['fps'] / r['empty_fps']:.2f}" if r["fps"] is not None else "–"
        sim = f"{r['simulated']:.1f} of {r['t_max']:g}" if r["simulated"] is not None else "–"
        print(f"| {r['page']} | {r['explorer']} | {r['inputs']} ({r['combinations']}) | {lat} | {handler} | {r['bare_median']:.1f} ms | {ratio} | {fps} | "
              f"{r['empty_fps']:.1f} | {fratio} | {sim} |")
    print()
    print(f"Seconds of stepping from t = 0 to the end (default n); above {SLOW_RUN_S:g} s the explorer must say why.")
    print()
    print("| explorer | setting | seconds to the end | note shown |")
    print("|---|---|---|---|")
    for r in explorers:
        for e in r.get("ends", []):
            setting = ", ".join(f"{k} = {v}" for k, v in e["setting"].items()) or "defaults"
            note = "–" if e["note"] is None else ("yes" if e["note"]["shown"] else "**no**")
            print(f"| {r['explorer']} | {setting} | {e['seconds']:.2f} | {note} |")
    print()
    print("| page | total | HTML | images | MathJax | explorers | theme JS | CSS | fonts | requests |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for w in weights:
        by = w["by"]
        print(f"| {w['page']} | **{_mb(w['total'])}** | {_mb(by.get('html', 0))} | {_mb(by.get('images', 0))} | "
              f"{_mb(by.get('mathjax', 0))} | {_mb(by.get('explorers', 0))} | {_mb(by.get('other js', 0))} | "
              f"{_mb(by.get('css', 0))} | {_mb(by.get('fonts', 0))} | {w['requests']} |")
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
