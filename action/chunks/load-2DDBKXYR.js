import { createRequire as __optoutRequire } from "node:module"; const require = __optoutRequire(import.meta.url);
import{a,b,c,d,e}from"./chunk-TOBSQZGJ.js";import"./chunk-TR65H3IT.js";import"./chunk-34WVSLPD.js";import"./chunk-X4KDRK3H.js";import"./chunk-TBNVEXJN.js";export{a as SEARCH_PLACES,c as displayPath,b as findPolicyFile,d as loadPolicy,e as loadPolicyText};
