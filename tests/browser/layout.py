"""What sticks out of a narrow viewport, for failure messages."""

# Elements whose right edge passes the viewport and that no scrolling ancestor contains: the
# ones that widen the page. Reports the outermost such elements only.
OVERFLOWING_JS = """
(limit) => {
  const vw = document.documentElement.clientWidth;
  const scrolls = el => {
    for (let a = el.parentElement; a && a !== document.body && a !== document.documentElement; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX;
      if (o === 'auto' || o === 'scroll' || o === 'hidden' || o === 'clip') return true;
    }
    return false;
  };
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= vw + 0.5 || scrolls(el)) continue;
    if (el.parentElement && el.parentElement !== document.body) {
      const p = el.parentElement.getBoundingClientRect();
      if (p.right > vw + 0.5 && !scrolls(el.parentElement)) continue;  // the parent is reported
    }
    out.push(`${name(el)} right=${Math.round(r.right)} width=${Math.round(r.width)}`);
    if (out.length >= limit) break;
  }
  return out;
}
"""


def overflowing(page, limit: int = 8) -> list[str]:
    return page.evaluate(OVERFLOWING_JS, limit)
