window.YTD.account.part0 = [
  {
    "account" : {
      "email" : "support@example.com",
      "createdVia" : "web",
      "username" : "AcmeHelp",
      "accountId" : "100",
      "createdAt" : "2015-01-01T00:00:00.000Z",
      "accountDisplayName" : "Acme Support"
    }
  }
]
