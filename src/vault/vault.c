typedef int vaern_stub_vault;
