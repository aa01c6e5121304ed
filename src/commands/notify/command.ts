import { Command } from "@commander-js/extra-typings";

export const notifyTestCommand = () =>
  new Command("test").description("send a test event to every configured channel and report each result");
