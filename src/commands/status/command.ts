import { Command } from "@commander-js/extra-typings";

export const statusCommand = () =>
  new Command("status").description("active overrides, pending requests and unfinished operations");
