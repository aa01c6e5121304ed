import { createRequire as __optoutRequire } from "node:module"; const require = __optoutRequire(import.meta.url);
function i(n){let r={};for(let s of n.split(`
`)){let t=/^(Optout-[A-Za-z]+):\s*(.+)$/.exec(s);t&&(r[t[1]]=t[2].trim())}return r}export{i as a};
