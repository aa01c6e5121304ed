import { createRequire as __optoutRequire } from "node:module"; const require = __optoutRequire(import.meta.url);
import{a,b,c,d}from"./chunk-5MFGUDRM.js";import"./chunk-X4KDRK3H.js";import"./chunk-TBNVEXJN.js";export{b as GitError,c as git,a as gitErrorLine,d as gitText};
