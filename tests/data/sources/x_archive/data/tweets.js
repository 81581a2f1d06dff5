window.YTD.tweets.part0 = [
  {
    "tweet" : {
      "edit_info" : { "initial" : { "editTweetIds" : [ "1700000000000000001" ], "editableUntil" : "2023-09-01T10:30:00.000Z", "editsRemaining" : "5", "isEditEligible" : true } },
      "retweeted" : false,
      "entities" : { "hashtags" : [ ], "symbols" : [ ], "user_mentions" : [ { "name" : "Renée", "screen_name" : "renee_k", "indices" : [ "0", "8" ], "id_str" : "200", "id" : "200" } ], "urls" : [ ] },
      "favorite_count" : "3",
      "in_reply_to_status_id_str" : "1699999999999999999",
      "id_str" : "1700000000000000001",
      "in_reply_to_user_id" : "200",
      "truncated" : false,
      "retweet_count" : "0",
      "id" : "1700000000000000001",
      "in_reply_to_status_id" : "1699999999999999999",
      "created_at" : "Fri Sep 01 10:00:00 +0000 2023",
      "favorited" : false,
      "full_text" : "@renee_k We're on it &amp; will DM you 👍",
      "lang" : "en",
      "in_reply_to_screen_name" : "renee_k",
      "in_reply_to_user_id_str" : "200"
    }
  },
  {
    "tweet" : {
      "retweeted" : false,
      "favorite_count" : "10",
      "id_str" : "1700000000000000002",
      "retweet_count" : "2",
      "created_at" : "Fri Sep 01 12:00:00 +0000 2023",
      "full_text" : "Neue Öffnungszeiten ab Montag #service",
      "lang" : "de"
    }
  }
]
