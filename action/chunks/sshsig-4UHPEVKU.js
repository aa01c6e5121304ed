import { createRequire as __optoutRequire } from "node:module"; const require = __optoutRequire(import.meta.url);
import{a,b,c,d,e,f,g}from"./chunk-AZOG6327.js";import"./chunk-X4KDRK3H.js";import"./chunk-TBNVEXJN.js";export{c as SshReader,e as parseSshsig,d as signSshsig,b as sshString,a as sshU32,f as verifySshsig,g as verifySshsigAsync};
