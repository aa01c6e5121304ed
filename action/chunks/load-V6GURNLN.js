import { createRequire as __optoutRequire } from "node:module"; const require = __optoutRequire(import.meta.url);
import{a,b,c,d,e}from"./chunk-6OR2HVHS.js";import"./chunk-GT5UK2CY.js";import"./chunk-HX2LSJDK.js";import"./chunk-TBNVEXJN.js";export{a as SEARCH_PLACES,c as displayPath,b as findPolicyFile,d as loadPolicy,e as loadPolicyText};
