import { createRequire as __optoutRequire } from "node:module"; const require = __optoutRequire(import.meta.url);
import"./chunk-TBNVEXJN.js";function p(t,e,o){let r={...t==="pending"?{approve:`optout approve ${e.id}`}:{},...t==="applied"?{revert:`optout revert ${e.id}`}:{}};return{event:t,record:e,repo:o,links:r}}export{p as notifyEvent};
