import { createRequire as __optoutRequire } from "node:module"; const require = __optoutRequire(import.meta.url);
function r(e){switch(e.kind){case"user":return`user:${e.login}`;case"team":return`team:${e.org}/${e.slug}`;case"group":return`group:${e.path}`;case"role":return`role:${e.role}`}}export{r as a};
