import { createRequire as __optoutRequire } from "node:module"; const require = __optoutRequire(import.meta.url);
import{a,b,c,d,e}from"./chunk-QNJOFLZ6.js";import"./chunk-6SIAQPXU.js";import"./chunk-34WVSLPD.js";import"./chunk-HX2LSJDK.js";import"./chunk-TBNVEXJN.js";export{a as SEARCH_PLACES,c as displayPath,b as findPolicyFile,d as loadPolicy,e as loadPolicyText};
