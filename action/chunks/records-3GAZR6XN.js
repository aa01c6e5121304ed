import { createRequire as __optoutRequire } from "node:module"; const require = __optoutRequire(import.meta.url);
import"./chunk-TBNVEXJN.js";function o(e,r){return{tip:e,records:r.valid.map(t=>t.record),alerts:r.alerts}}export{o as countingRecords};
