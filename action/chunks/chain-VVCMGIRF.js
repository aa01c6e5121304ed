import { createRequire as __optoutRequire } from "node:module"; const require = __optoutRequire(import.meta.url);
import{a,b,c,d,e,f,g}from"./chunk-EHNDO3UH.js";import"./chunk-TBNVEXJN.js";export{g as chainProblem,a as clockToleranceMs,c as idTime,f as linkProblem,b as personOf,d as recordPathOf,e as recordProblem};
