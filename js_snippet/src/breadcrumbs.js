// The last 50 clicks, page views and console lines, attached to every error.
export const crumbs = [];

export const crumb = (b) => {
  crumbs.push({ ts: Date.now(), ...b });
  crumbs.length > 50 && crumbs.shift();
};
