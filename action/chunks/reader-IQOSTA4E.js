import { createRequire as __optoutRequire } from "node:module"; const require = __optoutRequire(import.meta.url);
import{a,b}from"./chunk-PINTIYOR.js";import"./chunk-H7N3LE6W.js";import"./chunk-PD5HXSMC.js";import"./chunk-WZARSLCK.js";import"./chunk-HX2LSJDK.js";import"./chunk-TBNVEXJN.js";export{a as checkRecord,b as readVerifiedRecord};
