-- cdnctl.sandbox.accounts: the sandbox's documented demo accounts. These
-- keys open nothing anywhere but the sandbox; `cdnctl sandbox --help` and
-- the README list them, and --account adds more.

return {
  demo = {
    shortpixel = {
      { key = "spDemoAgency00000001", email = "agency@example.com" },
      { key = "spDemoOther000000002", email = "other@example.com" },
    },
    easyio = {
      { key = "ez-demo-account-0001", sub_keys = { "ez-demo-subkey-0001" } },
    },
  },
}
