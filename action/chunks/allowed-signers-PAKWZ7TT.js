import { createRequire as __optoutRequire } from "node:module"; const require = __optoutRequire(import.meta.url);
import{a,b,c,d}from"./chunk-H7N3LE6W.js";import"./chunk-PD5HXSMC.js";import"./chunk-WZARSLCK.js";import"./chunk-HX2LSJDK.js";import"./chunk-TBNVEXJN.js";export{b as isAllowed,d as matchPatternList,a as parseAllowedSigners,c as principalsForKey};
