// Small DOM builders. Text always goes in through textContent, never innerHTML, so nothing the
// daemon sends (a reason, a strategy id) can inject markup into the page.

const SVG_NS = "http://www.w3.org/2000/svg";

// Properties set as DOM properties rather than attributes (their live state, not their default).
const PROPERTIES = new Set(["value", "checked", "disabled", "hidden"]);

function applyProps(element, props) {
  for (const [name, value] of Object.entries(props)) {
    if (value === null || value === undefined) continue;
    if (name === "class") element.setAttribute("class", value);
    else if (name === "text") element.textContent = value;
    else if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (PROPERTIES.has(name) && !(element instanceof SVGElement)) element[name] = value;
    else if (value === false) continue;
    else element.setAttribute(name, value === true ? "" : String(value));
  }
}

function appendChildren(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
}

/** An HTML element: h("td", {class: "num", text: "12.5"}) or h("tr", {}, cell1, cell2). */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  applyProps(element, props);
  appendChildren(element, children);
  return element;
}

/** An SVG element, same calling convention as h(). */
export function svg(tag, props = {}, ...children) {
  const element = document.createElementNS(SVG_NS, tag);
  applyProps(element, props);
  appendChildren(element, children);
  return element;
}

/** Replace everything inside `container` with `children`. */
export function fill(container, ...children) {
  container.replaceChildren();
  appendChildren(container, children);
}

/** A table with a header row; `rows` are arrays of cells (elements or text). */
export function table(headers, rows, props = {}) {
  return h(
    "table",
    props,
    h("thead", {}, h("tr", {}, headers.map((header) => h("th", { scope: "col", text: header })))),
    h("tbody", {}, rows),
  );
}

/** A paragraph saying there is nothing to show. */
export function emptyNote(text) {
  return h("p", { class: "muted empty", text });
}

/** Put `text` in `element`, which is hidden while there is nothing to say. */
export function showText(element, text) {
  element.textContent = text;
  element.hidden = !text;
}
