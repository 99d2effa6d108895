-- cdnctl.codec (src/codec.c): IDNA through libidn2 and SHA-256 through
-- libcrypto, as lowercase hex (FIPS 180-2 vectors).
local t = require "t"
local codec = require "cdnctl.codec"
t.test("sha256_hex of the FIPS 180-2 vectors", function()
  t.eq(codec.sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
  t.eq(codec.sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
  t.eq(codec.sha256_hex("a\0b"), "59b271ae1bbcb1d31d41929817f4b16fb439eb4f31520b5ad1d5ce98920a7138", "NUL bytes count")
  t.eq(#codec.sha256_hex(("x"):rep(1000000)), 64)
end)

t.test("idna: an internationalised name is punycode; idna_unicode is its inverse", function()
  t.eq(codec.idna("b\u{FC}cher.de"), "xn--bcher-kva.de")
  t.eq(codec.idna_unicode("xn--bcher-kva.de"), "b\xC3\xBCcher.de")
  t.eq(codec.idna_unicode("example.com"), "example.com", "an ASCII name is the name")
  t.same({ codec.idna_unicode("xn--zz-9999999999.de") }, { nil, "punycode conversion resulted in overflow" })
end)
t.done()
