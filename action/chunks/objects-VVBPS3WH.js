import { createRequire as __optoutRequire } from "node:module"; const require = __optoutRequire(import.meta.url);
import{a,b,c,d,e,f,g,h}from"./chunk-7JJHQJPE.js";import"./chunk-5MFGUDRM.js";import"./chunk-X4KDRK3H.js";import"./chunk-TBNVEXJN.js";export{h as ObjectReader,g as ObjectWriter,d as parseTree,c as readBlob,a as readObjects,f as removeOrphanedTemps,b as resolveOids,e as serializeTree};
