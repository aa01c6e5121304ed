import { createRequire as __optoutRequire } from "node:module"; const require = __optoutRequire(import.meta.url);
import{b as n}from"./chunk-34WVSLPD.js";var s=/TOKEN|SECRET|PASSWORD|WEBHOOK|PRIVATE_KEY|API_KEY/i;function E(r,i){let t=r;for(let[o,e]of Object.entries(i))e&&e.length>=8&&s.test(o)&&(t=t.split(e).join("***"));return n(t,"***")}export{E as a};
