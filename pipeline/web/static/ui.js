// The page's strings in the user's language (pipeline/report/ui_strings.json, sent as <body data-ui>).
window.callcoachText = (function () {
  "use strict";
  var ui = JSON.parse(document.body.getAttribute("data-ui") || "{}");
  return function (key, values) {
    var text = ui[key] || key;
    Object.keys(values || {}).forEach(function (name) { text = text.split("{" + name + "}").join(values[name]); });
    return text;
  };
})();
